// The sign-up page of the imaginary "Lantern Books": embeds the widget, shows its events, and sends the
// result token to the site's own backend (`POST /demo/verify-token`, served by the demo server), which checks
// it against the verification server's JWKS and answers with the verified, masked attributes.
import { loadWidget, createWidget, EVENTS, summarize } from './widget.js';

const $ = (id) => document.getElementById(id);
let widget = null;

const CLAIM_LABELS = {
  status: 'Status',
  method: 'Method',
  document_kind: 'Document',
  masked_name: 'Name (masked)',
  masked_number: 'Document number (masked)',
  age_band: 'Age band',
  verified_at: 'Verified at',
  checks: 'Checks',
  session_id: 'Session',
};

function logEvent(type, detail) {
  const li = document.createElement('li');
  li.dataset.event = type;
  li.textContent = `${new Date().toLocaleTimeString()} — ${summarize(type, detail)}`;
  $('events').append(li);
}

function showClaims(claims) {
  const dl = $('claims');
  dl.replaceChildren();
  for (const [key, label] of Object.entries(CLAIM_LABELS)) {
    if (claims[key] === undefined) continue;
    let value = claims[key];
    if (key === 'verified_at' && typeof value === 'number') value = new Date(value * 1000).toLocaleString();
    // The identity checks (docs/checks.md): `id_match: match (demo)`.
    if (key === 'checks' && Array.isArray(value)) {
      value = value.map((c) => `${c.check}: ${c.outcome} (${c.provider})`).join(', ');
    }
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = String(value);
    dd.dataset.claim = key;
    dl.append(dt, dd);
  }
  dl.hidden = false;
}

async function onComplete(detail) {
  const token = detail?.token ?? detail?.result_token;
  const status = detail?.status ?? 'verified';
  if (!token) {
    $('result-status').textContent = status === 'pending_review'
      ? 'Your verification is in review. We will let you know when a reviewer has decided.'
      : `The widget finished with status “${status}”.`;
    $('result-status').dataset.state = status;
    return;
  }
  $('token').textContent = token;
  $('token-box').hidden = false;
  $('result-status').textContent = 'Checking the result token with our backend…';
  try {
    const res = await fetch('/demo/verify-token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body?.error?.code ?? `HTTP ${res.status}`);
    const claims = body.claims ?? body;
    $('result-status').textContent = 'Verified ✔ Our backend checked the token’s signature. Welcome, reader-42!';
    $('result-status').dataset.state = 'accepted';
    showClaims(claims);
  } catch (e) {
    $('result-status').textContent = `Our backend refused the token: ${e.message}`;
    $('result-status').dataset.state = 'refused';
  }
}

function mount() {
  widget?.remove();
  $('claims').hidden = true;
  $('token-box').hidden = true;
  $('result-status').textContent = 'Nothing yet: finish the verification above.';
  delete $('result-status').dataset.state;
  // `?methods=sms,email,documents` narrows the methods offered; without it the widget offers what the site enables.
  const methods = new URLSearchParams(location.search).get('methods') ?? undefined;
  widget = createWidget({ locale: $('locale').value, theme: $('theme').value, methods });
  for (const type of EVENTS) {
    widget.addEventListener(type, (e) => {
      // For `cargo xtask bench-e2e`: when the first interactive step is on screen, since navigation start.
      if (type === 'ready' && !performance.getEntriesByName('realname-ready').length) {
        performance.mark('realname-ready');
      }
      if (type === 'ready') startOutbox();
      // The code was just sent: show it now rather than at the next poll.
      if (type === 'step' && e.detail?.step === 'code') refreshOutbox();
      logEvent(type, e.detail);
      if (type === 'complete') onComplete(e.detail);
    });
  }
  $('mount').append(widget);
}

// The outbox of demo mode: shows the codes the server "sent", so a visitor can finish without a real phone.
// Polled once the widget is ready (or failed to load): it must not compete with the widget's first step.
let outboxStarted = false;
function startOutbox() {
  if (!outboxStarted) {
    outboxStarted = true;
    pollOutbox();
  }
}

async function pollOutbox() {
  await refreshOutbox();
  setTimeout(pollOutbox, 2000);
}

async function refreshOutbox() {
  try {
    const res = await fetch('/dev/outbox', { cache: 'no-store' });
    if (res.ok) {
      const body = await res.json();
      const messages = Array.isArray(body) ? body : (body.messages ?? []);
      const list = $('outbox-list');
      list.replaceChildren();
      for (const m of messages.slice(0, 5)) {
        const li = document.createElement('li');
        const to = m.to ?? m.destination ?? m.recipient ?? '';
        const text = m.text ?? m.body ?? m.message ?? JSON.stringify(m);
        li.textContent = `${to ? `${to}: ` : ''}${text}`;
        list.append(li);
      }
      if (!messages.length) list.innerHTML = '<li class="muted">No message yet.</li>';
    }
  } catch {
    // The outbox is a convenience; the widget works without it.
  }
}

$('locale').addEventListener('change', () => widget?.setAttribute('locale', $('locale').value));
$('theme').addEventListener('change', () => {
  widget?.setAttribute('theme', $('theme').value);
  document.documentElement.dataset.theme = $('theme').value;
});
$('restart').addEventListener('click', mount);

loadWidget()
  .then(mount)
  .catch((e) => {
    $('load-error').textContent = `The widget could not load (${e}). Did \`cargo xtask build\` run?`;
    $('load-error').hidden = false;
    startOutbox();
  });
