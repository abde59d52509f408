// The <realname-verify> custom element. Plain JS because a custom element must be a JS class; everything it does
// is delegated to the wasm `mount` given to defineElement. Loaded as a module file (never inline), so it works
// under a CSP without 'unsafe-inline' or 'unsafe-eval'.

const ATTRS = [
  'server', 'publishable-key', 'session-id', 'client-secret', 'locale', 'theme', 'methods', 'consent-version',
  'controller', 'retention', 'privacy-policy-url', 'complaint-url', 'parent-origin', 'android-interface',
];

const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

function themeValue(v) {
  if (v && v.trim().startsWith('{')) {
    try { return JSON.parse(v); } catch { return v; }
  }
  return v;
}

export function defineElement(mount) {
  if (typeof customElements === 'undefined' || customElements.get('realname-verify')) return;

  class RealNameVerify extends HTMLElement {
    static get observedAttributes() { return ATTRS; }

    constructor() {
      super();
      this._handle = null;
      this._options = {};
    }

    /** Options that attributes cannot carry (callbacks, strings, theme objects); attributes win. */
    get options() { return this._options; }
    set options(o) {
      this._options = o || {};
      if (this._handle) this._remount();
    }

    connectedCallback() {
      if (!this._handle) this._mount();
    }

    disconnectedCallback() {
      // Moving the element in the DOM disconnects and reconnects it in one task: keep the state then.
      queueMicrotask(() => { if (!this.isConnected) this.destroy(); });
    }

    attributeChangedCallback(name, old, value) {
      if (!this._handle || old === value) return;
      if (name === 'locale') this._handle.setLocale(value || '');
      else if (name === 'theme') this._handle.setTheme(themeValue(value || 'light'));
      else this._remount();
    }

    setLocale(locale) { this._handle?.setLocale(locale); }
    setTheme(theme) { this._handle?.setTheme(theme); }

    /** Drops the widget and every piece of personal data it held. */
    destroy() {
      this._handle?.destroy();
      this._handle = null;
    }

    _remount() {
      this.destroy();
      this._mount();
    }

    _mount() {
      const opts = Object.assign({}, this._options);
      for (const a of ATTRS) {
        const v = this.getAttribute(a);
        if (v !== null) opts[camel(a)] = a === 'theme' ? themeValue(v) : v;
      }
      const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
      this._handle = mount(this, root, this, opts);
    }
  }

  customElements.define('realname-verify', RealNameVerify);
}
