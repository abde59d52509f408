// The theme playground: token inputs beside a running widget; every change calls setTheme() and rewrites the
// snippet. A separate file, not an inline script, so the page runs under the same strict CSP as a real site.
import init, { mount } from './pkg/realname.js';

const COLORS = [
  ['colorPrimary', '#1d4ed8', '#8ab4ff'], ['colorOnPrimary', '#ffffff', '#0b1530'], ['colorSurface', '#ffffff', '#15181d'],
  ['colorSurfaceAlt', '#f3f5f8', '#20252c'], ['colorText', '#1b1f24', '#e8eaed'], ['colorMuted', '#4f5965', '#aab3bf'],
  ['colorBorder', '#8a94a3', '#6e7886'], ['colorError', '#b42318', '#ff9a8f'], ['colorSuccess', '#17692f', '#6fdc8c'],
];
const SIZES = [
  ['radius', '10px'], ['fontSize', '16px'], ['spacing', '16px'], ['controlHeight', '44px'], ['maxWidth', '440px'],
  ['fontFamily', ''], ['focusRing', ''],
];

const $ = (id) => document.getElementById(id);
const changed = {};
// Tokens emptied since the last apply: setTheme() gets them as null, which removes them.
const cleared = new Set();
let widget = null;
const dark = () => $('mode').value === 'dark';

function field(parent, name, type, value) {
  const label = document.createElement('label');
  label.textContent = name;
  const input = document.createElement('input');
  input.type = type;
  input.id = `t-${name}`;
  input.value = value;
  input.placeholder = 'default';
  input.addEventListener('input', () => {
    // In dark mode a colour picker edits the colour's dark twin (colorPrimaryDark…): light colours apply in light
    // mode only.
    const key = type === 'color' && dark() ? `${name}Dark` : name;
    if (input.value === '') {
      delete changed[key];
      cleared.add(key);
    } else {
      changed[key] = input.value;
      cleared.delete(key);
    }
    apply();
  });
  label.append(input);
  parent.append(label);
}

function theme() {
  return { mode: $('mode').value, ...changed };
}

function snippet() {
  const t = JSON.stringify(theme(), null, 2).replace(/\n/g, '\n  ');
  $('snippet').textContent =
    `import init, * as RealName from "realname-widget";\nawait init();\nRealName.mount(document.getElementById("verify"), {\n  server: "https://verify.example.com",\n  theme: ${t},\n});`;
  const css = Object.entries(changed)
    .map(([k, v]) => `  --rn-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${v};`)
    .join('\n');
  // The custom element, or the element given to mount(): the widget inherits the properties from either.
  $('css-snippet').textContent = `realname-verify, #verify {\n${css || '  /* no token changed */'}\n}`;
}

function apply() {
  const t = theme();
  for (const k of cleared) t[k] = null;
  cleared.clear();
  widget?.setTheme(t);
  snippet();
}

function start() {
  widget?.destroy();
  const el = $('mount');
  const preview = $('preview').value;
  widget = mount(el, {
    locale: $('locale').value,
    // The demo server's site (it serves this page): the widget checks its configuration when it mounts.
    server: location.origin,
    publishableKey: 'pk_demo',
    theme: theme(),
    methods: ['sms', 'email', 'documents'],
    consent: { controller: 'Lantern Books', privacyPolicyUrl: 'https://example.com/privacy' },
  });
  // Walk the widget to the chosen step, as a person would, so every state can be themed.
  const root = el.querySelector('.realname-host')?.shadowRoot;
  const later = (f) => setTimeout(f, 30);
  if (preview !== 'consent' && root) {
    later(() => {
      root.querySelector('#rn-consent')?.click();
      later(() => {
        root.querySelector('[part~=button-primary]')?.click();
        if (preview === 'identity') later(() => {
          root.querySelector('[data-method=sms]')?.click();
          later(() => {
            const n = root.querySelector('#rn-number');
            n.value = '110105194912310021';
            n.dispatchEvent(new InputEvent('input', { bubbles: true }));
          });
        });
      });
    });
  }
}

async function copy(id) {
  try {
    await navigator.clipboard.writeText($(id).textContent);
    $('copied').textContent = 'Copied.';
  } catch {
    $('copied').textContent = 'Select the text and copy it (the clipboard is not available here).';
  }
}

for (const [name, light] of COLORS) field($('colors'), name, 'color', light);
for (const [name] of SIZES) field($('sizes'), name, 'text', '');
$('mode').addEventListener('change', () => {
  // Colour pickers show the mode's colours: the site's where changed (the dark twin in dark mode), else the defaults.
  for (const [name, light, darkv] of COLORS) {
    $(`t-${name}`).value = dark() ? changed[`${name}Dark`] ?? darkv : changed[name] ?? light;
  }
  apply();
});
$('locale').addEventListener('change', () => widget?.setLocale($('locale').value));
$('preview').addEventListener('change', start);
$('reset').addEventListener('click', () => {
  for (const k of Object.keys(changed)) delete changed[k];
  for (const [name, light] of COLORS) $(`t-${name}`).value = light;
  for (const [name] of SIZES) $(`t-${name}`).value = '';
  $('mode').value = 'light';
  start();
  snippet();
});
$('copy').addEventListener('click', () => copy('snippet'));
$('copy-css').addEventListener('click', () => copy('css-snippet'));

await init();
start();
snippet();
