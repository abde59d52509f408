// The browser entry (what bundlers pick: package.json's "default" condition) loaded in Node: before init() a call
// throws an error that says what to do, instead of a TypeError from inside the module.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const dir = dirname(require.resolve("realname-widget/validate/validate_wasm_bg.wasm"));

test("a call before init() says to run init()", async () => {
  const api = await import(pathToFileURL(join(dir, "index.js")).href);
  for (const call of [() => api.isValidId("11010519491231002X"), () => api.validateId("x"), () => api.maskId("x"),
    () => api.validatePhone("13800138000")]) {
    assert.throws(call, (e) => e instanceof Error && /not initialized: run `await init\(\)`/.test(e.message));
  }
  await api.default({ module_or_path: readFileSync(join(dir, "validate_wasm_bg.wasm")) });
  assert.equal(api.isValidId("11010519491231002X"), true);
});
