// A plain site bundled with webpack 5: the widget mounted with `init()` + `<realname-verify>`, and the
// validation API as a form uses it. webpack emits both wasm files as assets, found through the package's
// `new URL("…", import.meta.url)`.
import init from "realname-widget";
import initValidate, { isValidId } from "realname-widget/validate";

window.consumer = { events: [], csp: [] };
document.addEventListener("securitypolicyviolation", (e) => {
  window.consumer.csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
const server = new URLSearchParams(location.search).get("server") ?? location.origin;

let before = "";
try {
  isValidId("11010519491231002X");
} catch (e) {
  before = e.message;
}
await initValidate();
window.consumer.validate = { before, after: isValidId("11010519491231002X") };

await init();
const el = document.createElement("realname-verify");
el.setAttribute("server", server);
el.setAttribute("publishable-key", "pk_demo");
el.setAttribute("locale", "en");
el.options = { consent: { controller: "Lantern Books", retention: "until you close your account" } };
for (const type of ["ready", "step", "complete", "cancel", "error"]) {
  el.addEventListener(type, (e) => window.consumer.events.push({ type, detail: e.detail }));
}
document.getElementById("app").append(el);
