// Loads the realname widget (www/pkg, built by `cargo xtask build`) once, and creates <realname-verify>
// elements for the demo pages. The one place the demo pages depend on how the package starts.
import init from '../pkg/realname.js';

let ready;

/** Loads the wasm and waits until the custom element is defined. */
export function loadWidget() {
  ready ??= init().then(() => customElements.whenDefined('realname-verify'));
  return ready;
}

/** The demo site's publishable key and server: the demo server serves the pages, so it is this origin. */
export const DEMO = { server: location.origin, publishableKey: 'pk_demo' };

/** Every event the widget emits. */
export const EVENTS = ['ready', 'step', 'complete', 'cancel', 'error'];

/** Creates a <realname-verify> element for the demo site with the given attributes. */
export function createWidget(attrs = {}) {
  const el = document.createElement('realname-verify');
  el.setAttribute('server', DEMO.server);
  el.setAttribute('publishable-key', DEMO.publishableKey);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) el.setAttribute(k, v);
  }
  return el;
}

/** A short, human summary of an event's detail for the demo's event logs (never personal data: the widget
 *  only puts masked values and tokens in events). */
export function summarize(type, detail) {
  if (detail == null) return type;
  if (typeof detail !== 'object') return `${type}: ${detail}`;
  const parts = [];
  for (const [k, v] of Object.entries(detail)) {
    const s = typeof v === 'string' && v.length > 40 ? `${v.slice(0, 24)}…` : JSON.stringify(v);
    parts.push(`${k}=${s}`);
  }
  return `${type}: ${parts.join(', ')}`;
}
