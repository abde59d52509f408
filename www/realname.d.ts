// TypeScript declarations for the realname widget package (`www/pkg`, published to npm as `realname-widget`).
// Copied over wasm-bindgen's generated realname.d.ts by `cargo xtask build`: it types the options, events and
// the custom element that the generated file can only call `any`.
//
//   import init, * as RealName from "realname-widget";
//   await init();                       // loads realname_bg.wasm next to this module; defines <realname-verify>
//   const widget = RealName.mount(document.getElementById("verify")!, { server, publishableKey, locale: "en" });

/** Languages the widget speaks. Other tags fall back through `navigator.language` to zh-CN. */
export type Locale = "zh-CN" | "zh-TW" | "en";

/** Verification methods a site can enable (the protocol's names). `documents` (a selfie and a document photo for a
 *  reviewer) is never offered alone. */
export type Method = "sms" | "email" | "documents";
/** @deprecated `face` is the old name of `documents`: still accepted in the `methods` option, never reported. */
export type DeprecatedMethod = "face";

/** Colour mode. `auto` follows `prefers-color-scheme`. */
export type ThemeMode = "light" | "dark" | "auto";

/** A token's value: a CSS value (numbers are px), or `null` / `""` to remove a token set before. */
export type TokenValue = string | null;

/** Design tokens; each maps to a CSS custom property on the widget host (see docs/theming.md). Colours have a
 *  `…Dark` twin for dark mode; without `colorPrimaryDark`, a hex `colorPrimary` gets a derived dark variant. */
export interface ThemeTokens {
  mode?: ThemeMode;
  colorPrimary?: TokenValue;
  colorOnPrimary?: TokenValue;
  colorSurface?: TokenValue;
  colorSurfaceAlt?: TokenValue;
  colorText?: TokenValue;
  colorMuted?: TokenValue;
  colorBorder?: TokenValue;
  colorError?: TokenValue;
  colorSuccess?: TokenValue;
  colorWarning?: TokenValue;
  colorPrimaryDark?: TokenValue;
  colorOnPrimaryDark?: TokenValue;
  colorSurfaceDark?: TokenValue;
  colorSurfaceAltDark?: TokenValue;
  colorTextDark?: TokenValue;
  colorMutedDark?: TokenValue;
  colorBorderDark?: TokenValue;
  colorErrorDark?: TokenValue;
  colorSuccessDark?: TokenValue;
  colorWarningDark?: TokenValue;
  radius?: TokenValue | number;
  fontFamily?: TokenValue;
  fontSize?: TokenValue | number;
  spacing?: TokenValue | number;
  focusRing?: TokenValue;
  focusRingDark?: TokenValue;
  controlHeight?: TokenValue | number;
  maxWidth?: TokenValue | number;
  /** The CSS custom properties themselves are accepted too, e.g. `"--rn-color-primary": "#c00"`. */
  [cssVariable: `--rn-${string}`]: string | number | null | undefined;
}

/** A theme: a mode name, or tokens. */
export type Theme = ThemeMode | ThemeTokens;

/** What the consent screen names (PIPL art. 17/29). */
export interface ConsentOptions {
  /** Who processes the data, e.g. your company's name. */
  controller?: string;
  /** How long the data is kept, in your words. */
  retention?: string;
  /** Your privacy policy (http(s) or a path). */
  privacyPolicyUrl?: string;
  /** Version of your consent text; sent sealed with the submission. */
  version?: string;
}

/** String keys (see src/i18n.rs); a missing key is reported as an `error` event with code `invalid_option`. */
export type StringKey = string;

/** Overrides for any string: for all locales (`{ "consent.heading": "…" }`) or per locale (`{ en: { … } }`). */
export type StringOverrides = { [key: StringKey]: string | { [key: StringKey]: string } };

/** `ready`: the widget rendered. */
export interface ReadyDetail { version: string; locale: Locale }
/** `step`: a new step is shown. */
export interface StepDetail {
  step: "consent" | "guardian_consent" | "method" | "identity" | "code" | "documents" | "submitting" | "verified"
    | "in_review" | "failed" | "cancelled" | "error";
  method: Method | null;
}
/** `complete`: a result. Send `token` to your backend and verify it there against the server's JWKS. */
export interface CompleteDetail {
  status: "verified" | "pending_review" | "failed";
  token: string | null;
  method: Method | null;
  /** `pending_review`: the instant a reviewer will have decided by (5 working days; 24:00 Beijing time of the last
   *  working day), RFC 3339 in UTC, e.g. `"2026-10-09T16:00:00Z"`; `null` when the widget learned only that a
   *  review is pending (its answer was lost and it asked the server where the session is). */
  reviewDue?: string | null;
  /** `failed`: the stable reason code. */
  reason?: string;
}
/** `cancel`: the person cancelled (consent withdrawn). */
export interface CancelDetail {}
/** Codes that mean the page is misconfigured: the widget shows a short notice and offers nothing else. */
export type ConfigurationErrorCode =
  | "forbidden_origin" | "unauthorized" | "site_disabled" | "method_not_enabled" | "not_configured"
  | "no_method_enabled" | "documents_only_method";

/** Every stable code an `error` event carries (docs/embedding.md says what a site should do about each). */
export type ErrorCode =
  | ConfigurationErrorCode
  | "invalid_option" | "network" | "session_ended" | "session_expired" | "client_secret_expired"
  | "client_secret_used" | "rate_limited" | "delivery_failed" | "validation_failed" | "consent_required"
  | "payload_invalid" | "envelope_malformed" | "envelope_invalid" | "unknown_kid" | "envelope_replayed"
  | "seal_failed" | "bad_request" | "internal" | "unavailable" | "illegal_transition";

/** `error`: a stable code; `option` names the option of an `invalid_option`. Codes may be added: treat an unknown
 *  one like `internal`. */
export interface ErrorDetail { code: ErrorCode | (string & {}); option?: string }

/** Events, as DOM CustomEvents and as callbacks. `ready`, `step`, `complete` and `cancel` bubble and are composed
 *  (a listener on any ancestor hears them); `error` is dispatched on the element only, so that it never reaches
 *  the page's global error handlers (docs/embedding.md). */
export interface RealNameEventMap {
  ready: CustomEvent<ReadyDetail>;
  step: CustomEvent<StepDetail>;
  complete: CustomEvent<CompleteDetail>;
  cancel: CustomEvent<CancelDetail>;
  error: CustomEvent<ErrorDetail>;
}

/** Options of `mount()` and `element.options`. */
export interface Options {
  /** The realname server's base URL; default: this page's origin. */
  server?: string;
  /** Publishable key (`pk_…`), for sites that let the widget open its own session (demo mode). */
  publishableKey?: string;
  /** A session your backend created (`POST /v1/sessions`), and its client secret (`cs_…`). */
  sessionId?: string;
  clientSecret?: string;
  /** Default: `navigator.language`, else zh-CN. */
  locale?: Locale | string;
  /** Default: light. */
  theme?: Theme;
  /** Methods offered (sms, email, documents — documents never alone; `face` still means documents but is
   *  deprecated). Default: what the session offers, i.e. the methods the site enabled on the server; a list here can
   *  only narrow that. */
  methods?: (Method | DeprecatedMethod)[] | string;
  consent?: ConsentOptions;
  /** Where a person can file a complaint after a failed verification. */
  complaintUrl?: string;
  strings?: StringOverrides;
  /** Target origin for `window.parent.postMessage` when the widget runs in an iframe; never `*`. */
  parentOrigin?: string;
  /** Name of the Android `addJavascriptInterface` object; default `RealNameAndroid`. */
  androidInterface?: string;
  onReady?: (detail: ReadyDetail) => void;
  onStep?: (detail: StepDetail) => void;
  onComplete?: (detail: CompleteDetail) => void;
  onCancel?: (detail: CancelDetail) => void;
  onError?: (detail: ErrorDetail) => void;
}

/** A mounted widget. */
export class Widget {
  private constructor();
  /** Unmounts and drops every piece of personal data the widget held. */
  destroy(): void;
  setLocale(locale: Locale | string): void;
  setTheme(theme: Theme): void;
  free(): void;
}

/** Renders the widget inside `element` (in its own Shadow DOM); events are dispatched on `element`. */
export function mount(element: Element, options?: Options): Widget;

/** The widget's version. */
export function version(): string;

/** Registers `<realname-verify>` (done by `init()`). */
export function start(): void;

// The validation API (validateId, isValidId, validatePhone, validateEmail, validateName, the masks) is its own
// small wasm module, so a page that only validates need not load the widget:
//   import initValidate, { validateId, isValidId } from "realname-widget/validate"; await initValidate();
export type { Issue, IdCheck, FieldCheck, NameCheck, DocumentKind, ValidateIdOptions } from "./validate/index.js";

/** Loads the wasm (default: `realname_bg.wasm` next to this module) and defines `<realname-verify>`. */
export default function init(
  module_or_path?: { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module } | RequestInfo | URL,
): Promise<unknown>;

/** Instantiates the widget synchronously from the wasm's bytes or a compiled module (where a page already has
 *  them, e.g. a webview that bundles the file) and defines `<realname-verify>`; `init()` does the same by fetching. */
export function initSync(module: { module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module): unknown;

/** The attributes of `<realname-verify>` (strings, as in HTML); each has an `Options` twin, and attributes win
 *  over `options`. Typed for frameworks' templates by `realname-widget/react` and `realname-widget/vue`. */
export interface RealNameVerifyAttributes {
  server?: string;
  "publishable-key"?: string;
  "session-id"?: string;
  "client-secret"?: string;
  locale?: Locale | (string & {});
  /** A mode name or the tokens as JSON. */
  theme?: ThemeMode | (string & {});
  /** Comma-separated, e.g. `"sms,email"`. */
  methods?: string;
  "consent-version"?: string;
  controller?: string;
  retention?: string;
  "privacy-policy-url"?: string;
  "complaint-url"?: string;
  "parent-origin"?: string;
  "android-interface"?: string;
}

/** The custom element. Attributes: see `RealNameVerifyAttributes`. Parts: container, title, heading, step, field,
 *  label, input, select, checkbox, error, warning, hint, button, button-primary, button-secondary, method, capture,
 *  link. */
export interface RealNameVerifyElement extends HTMLElement {
  options: Options;
  setLocale(locale: Locale | string): void;
  setTheme(theme: Theme): void;
  destroy(): void;
  addEventListener<K extends keyof RealNameEventMap>(type: K, listener: (ev: RealNameEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "realname-verify": RealNameVerifyElement;
  }
}
