// realname's JS validation API as its own small wasm module: `import init, { validateId, isValidId } from
// "realname-widget/validate"; await init();`. Nothing here touches the DOM; it runs in browsers, workers and Node
// (where package.json's "node" condition picks node.js, which needs no init). Before `init()` resolves, a call
// throws an error that says to run it.
import initWasm, { initSync as initWasmSync } from "./validate_wasm.js";
import { bind } from "./api.js";

export {
  isValidId, validateId, validatePhone, validateEmail, validateName, maskId, maskName, maskPhone, maskEmail,
} from "./api.js";

/** Loads the wasm (default: `validate_wasm_bg.wasm` next to this module) and binds the API to it. */
export default async function init(module_or_path) {
  bind(await initWasm(module_or_path));
}

/** Binds the API to an already fetched or compiled module, synchronously. */
export function initSync(module) {
  bind(initWasmSync(module));
}
