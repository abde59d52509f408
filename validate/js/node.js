// The Node entry of `realname-widget/validate` (package.json's "node" condition; Deno and Bun take it too): the
// same API as index.js, whose wasm is read from the file next to this module, synchronously, on the first call.
// So `import { isValidId } from "realname-widget/validate"` works with no init, and `await init()` (what the
// browser needs) works here as well; `require()` works too, as nothing here awaits at the top level.
import { readFileSync } from "node:fs";
import { initSync as initWasmSync } from "./validate_wasm.js";
import { ensureReady, setLoader } from "./api.js";
import initBrowser from "./index.js";

export {
  isValidId, validateId, validatePhone, validateEmail, validateName, maskId, maskName, maskPhone, maskEmail,
} from "./api.js";
export { initSync } from "./index.js";

const wasmFile = new URL("./validate_wasm_bg.wasm", import.meta.url);
setLoader(() => initWasmSync({ module: readFileSync(wasmFile) }));

/** Loads the wasm: without an argument from the file next to this module (what a first call does anyway), else
 *  from what is given, as in browsers. */
export default async function init(module_or_path) {
  if (nothingGiven(module_or_path)) ensureReady();
  else await initBrowser(module_or_path);
}

/** No argument, or wasm-bindgen's `{ module_or_path }` form without one. */
function nothingGiven(m) {
  if (m === undefined || m === null) return true;
  return Object.getPrototypeOf(m) === Object.prototype && m.module_or_path == null;
}
