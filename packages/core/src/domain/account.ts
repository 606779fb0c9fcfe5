import { InvalidRequestError } from '../errors.js';

export const ACCOUNT_MAX_LENGTH = 64;

export interface Account {
  /** The account as the user wrote it, prepared: width-mapped and NFC-normalised, its case kept. */
  readonly account: string;
  /** The case-insensitive identity: `Jack`, `jack` and fullwidth `ｊａｃｋ` share one key. */
  readonly accountKey: string;
}

// Account preparation follows RFC 8265 (PRECIS UsernameCaseMapped) in its order: width mapping,
// case mapping (for the key), NFC, then the checks. It is written on Node's own Unicode data
// (String.prototype.normalize and regular-expression property escapes, both from the ICU that Node
// ships) rather than a PRECIS library: core depends on nothing but its password KDF, and the few
// rules below need no tables of their own. Unlike the IdentifierClass, it keeps what accounts have
// always been allowed to hold (inner ASCII spaces, symbols, emoji), so no stored account loses its
// meaning; see the README's "Account names" section.

// Fullwidth and halfwidth forms (the <wide> and <narrow> decompositions) and the ideographic space,
// which is <wide> too. Only these are mapped: any other compatibility character is refused below.
const WIDTH_FORMS = /[\u3000\uFF00-\uFFEF]/gu;

// Cc: C0/C1 controls (NUL, newline, DEL, ...); Zl/Zp: line and paragraph separators.
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;
// Characters that render as nothing (zero-width space and joiners, bidi controls, soft hyphen,
// variation selectors, the Hangul fillers) or as nothing defined: `a\u200Bb` would look like `ab`.
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/u;
const SURROGATE = /\p{Cs}/u;
const PRIVATE_USE = /\p{Co}/u;
// Unassigned in the Unicode version of this Node: its meaning (and case) may change later.
const UNASSIGNED = /\p{Cn}/u;

/** Maps fullwidth and halfwidth forms to their standard forms (RFC 8265 width mapping). */
function mapWidth(value: string): string {
  return value.replace(WIDTH_FORMS, (form) => form.normalize('NFKC'));
}

/** The prepared account: width-mapped, then NFC. Case is kept (it is shown back to the user). */
function prepare(value: string): string {
  return mapWidth(value).normalize('NFC');
}

/**
 * The account key of any string, prepared as {@link parseAccount} does it (width mapping, NFC) then
 * case-folded: upper then lower maps `ß`/`SS`, `ς`/`σ`/`Σ` and friends to one form. For ASCII it is
 * plain lower case, as it always was.
 */
export function accountKeyOf(account: string): string {
  return prepare(account).toUpperCase().toLowerCase().normalize('NFC');
}

const hex = (codePoint: number) => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why a code point of a prepared account is not allowed, or undefined when it is. */
function disallowed(char: string): string | undefined {
  const name = hex(char.codePointAt(0)!);
  if (SURROGATE.test(char)) return `must not contain an unpaired surrogate (${name}).`;
  if (INVISIBLE.test(char)) return `must not contain ${name}: invisible and formatting characters are not allowed.`;
  if (PRIVATE_USE.test(char)) return `must not contain ${name}: private-use characters are not allowed.`;
  if (UNASSIGNED.test(char)) return `must not contain ${name}: unassigned code points are not allowed.`;
  // PRECIS refuses compatibility characters (HasCompat) once widths are mapped: mathematical
  // letters, ligatures, superscripts, non-ASCII spaces, ... would otherwise pass for their plain forms.
  const standard = char.normalize('NFKC');
  if (standard !== char) return `must not contain ${name}: write its standard form ${JSON.stringify(standard)} instead.`;
  return undefined;
}

/**
 * Validates and prepares an account (design section 3, on the model of RFC 8265): fullwidth and
 * halfwidth forms are mapped to their standard forms, then NFC; the result is 1-64 characters, with
 * no control, invisible, private-use, unassigned or compatibility characters and no leading or
 * trailing white space. What stays distinct: look-alikes from different scripts (Latin `a` and
 * Cyrillic `а`), and accents (`e` and `é`).
 * @throws InvalidRequestError naming `field`
 */
export function parseAccount(value: unknown, field = 'account'): Account {
  if (typeof value !== 'string') throw InvalidRequestError.rule(field, 'must be a string.');
  const account = prepare(value);
  const chars = [...account];
  if (chars.length === 0) throw InvalidRequestError.rule(field, 'must not be empty.');
  if (chars.length > ACCOUNT_MAX_LENGTH) throw InvalidRequestError.rule(field, `must be at most ${ACCOUNT_MAX_LENGTH} characters.`);
  if (CONTROL.test(account)) throw InvalidRequestError.rule(field, 'must not contain control characters.');
  if (account.trim() !== account) throw InvalidRequestError.rule(field, 'must not start or end with white space.');
  for (const char of chars) {
    const problem = disallowed(char);
    if (problem) throw InvalidRequestError.rule(field, problem);
  }
  return { account, accountKey: accountKeyOf(account) };
}

/** True when `account` names the same account as `principalAccountKey` (case-insensitively). */
export function isSameAccount(account: string, accountKey: string): boolean {
  return accountKeyOf(account) === accountKey;
}
