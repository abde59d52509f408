// The webview demo: mounts the widget full-width and lists what the "app" received through the bridge.
import { loadWidget, createWidget } from './widget.js';

const log = document.getElementById('bridge-log');

function show(message) {
  const li = document.createElement('li');
  let text = String(message);
  try {
    const m = JSON.parse(message);
    li.dataset.event = m.type ?? m.event ?? '';
    text = JSON.stringify(m);
  } catch {
    // Not JSON: show as sent.
  }
  li.textContent = text.length > 160 ? `${text.slice(0, 160)}…` : text;
  log.append(li);
}

for (const m of window.realnameBridgeMessages) show(m);
window.addEventListener('bridge-message', (e) => show(e.detail));

loadWidget()
  .then(() => document.getElementById('mount').append(createWidget({ locale: navigator.language })))
  .catch((e) => {
    const p = document.getElementById('load-error');
    p.textContent = `The widget could not load (${e}). Did \`cargo xtask build\` run?`;
    p.hidden = false;
  });
