// What every consumer app records for the e2e test (e2e/tests/e2e/consumers.rs): the widget's events, CSP
// violations, and the validation API used before and after its init.
import initValidate, { isValidId } from "realname-widget/validate";

/** What the test reads back. */
export interface ConsumerLog {
  events: { type: string; detail: unknown }[];
  csp: string[];
  validate?: { before: string; after: boolean };
}

declare global {
  interface Window { consumer: ConsumerLog }
}

window.consumer = { events: [], csp: [] };
document.addEventListener("securitypolicyviolation", (e) => {
  window.consumer.csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});

/** Records one widget event. */
export function record(type: string, detail: unknown): void {
  window.consumer.events.push({ type, detail });
}

/** The verification server, from `?server=`. */
export const server: string = new URLSearchParams(location.search).get("server") ?? location.origin;

/** The validation API as a form uses it: a call before `init()` must say what to do; after it, it answers. */
export async function checkValidate(): Promise<void> {
  let before = "";
  try {
    isValidId("11010519491231002X");
  } catch (e) {
    before = e instanceof Error ? e.message : String(e);
  }
  await initValidate();
  window.consumer.validate = { before, after: isValidId("11010519491231002X") };
}
