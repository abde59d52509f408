// The same package used as the browser docs say, `await init()` first: in Node it reads the wasm next to the
// module (no fetch of a file: URL), and init with the wasm's bytes works too.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import init, { initSync, isValidId, validateId } from "realname-widget/validate";

test("await init() then the API", async () => {
  await init();
  await init(); // a second call is harmless
  assert.equal(isValidId("11010519491231002X"), true);
  assert.equal(validateId("11010519491231002X").valid, true);
});

test("init from the wasm's bytes, as in a worker or a bundler without URL support", async () => {
  const wasm = createRequire(import.meta.url).resolve("realname-widget/validate/validate_wasm_bg.wasm");
  await init({ module_or_path: readFileSync(wasm) });
  assert.equal(isValidId("11010519491231002X"), true);
  initSync({ module: readFileSync(wasm) });
  assert.equal(isValidId("110105194912310021"), false);
});
