// realname's JS validation API (`realname-widget/validate`): the same functions and result objects as the
// Rust `realname_core::validate` API and the `realname-server validate-id` CLI, in a small wasm module of its own.

/** One problem found by a validator: a stable snake_case code, the 0-based character position in `normalized`
 *  where there is one, and the expected character where the fix is known (the check character). */
export interface Issue { code: string; position: number | null; expected: string | null }

/** The document kinds, as `validateId` reports and accepts them. */
export type DocumentKind = "resident_id" | "hk_mo_tw_residence_permit" | "foreign_permanent_resident_id"
  | "hk_mo_travel_permit" | "tw_travel_permit" | "chinese_passport" | "passport" | "driving_licence";

/** Result of `validateId`. Facts are filled for every part that parses; trust them only when `valid`. */
export interface IdCheck {
  valid: boolean;
  kind: DocumentKind;
  normalized: string;
  errors: Issue[];
  warnings: Issue[];
  birth_date: string | null;
  sex: "male" | "female" | null;
  age: number | null;
  under_14: boolean | null;
  under_18: boolean | null;
  region: { code: string; status: "current" | "abolished" | "unknown" } | null;
  nationality: string | null;
  upgraded: string | null;
}

/** Result of `validatePhone` / `validateEmail`. */
export interface FieldCheck { valid: boolean; normalized: string; errors: Issue[] }
/** Result of `validateName`. */
export interface NameCheck { valid: boolean; normalized: string; script: "cjk" | "latin" | null; errors: Issue[] }

/** Options of `validateId`: the kind (when absent, detected among the documents with a check character —
 *  resident ID, residence permit, foreigner's permanent residence ID; travel permits and passports are checked only
 *  when named, so a bare 8-digit string is not a Taiwan travel permit), strict mode (unknown region or nationality
 *  codes become errors), and `today` as `YYYY-MM-DD` instead of the clock (UTC). */
export interface ValidateIdOptions { kind?: DocumentKind | null; strict?: boolean | null; today?: string | null }

/** The rich check of any identity document number. Throws on bad options or a non-string input. */
export function validateId(input: string, options?: ValidateIdOptions | null): IdCheck;
/** The fast boolean check: non-strict, kind detected (as `validateId` without a kind), today from the clock; false
 *  for anything not a string. */
export function isValidId(input: unknown): boolean;
export function validatePhone(input: string): FieldCheck;
export function validateEmail(input: string): FieldCheck;
export function validateName(input: string): NameCheck;
export function maskId(input: string): string;
export function maskName(input: string): string;
export function maskPhone(input: string): string;
export function maskEmail(input: string): string;

/** Loads the wasm (default: `validate_wasm_bg.wasm` next to this module); call once before the functions (a call
 *  before it resolves throws an error saying so). In Node it is optional: the first call reads the file itself. */
export default function init(
  module_or_path?: { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module } | RequestInfo | URL,
): Promise<void>;
/** Binds to an already fetched or compiled module, synchronously. */
export function initSync(module: { module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module): void;
