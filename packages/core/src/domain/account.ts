import { InvalidRequestError } from '../errors.js';

export const ACCOUNT_MAX_LENGTH = 64;

export interface Account {
  /** The account as the user wrote it, NFC-normalised. */
  readonly account: string;
  /** The case-insensitive identity: `Jack` and `jack` share one key. */
  readonly accountKey: string;
}

// Cc: C0/C1 controls (NUL, newline, DEL, ...); Zl/Zp: line and paragraph separators.
const FORBIDDEN = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/** Full-ish case folding: upper then lower maps `ß`/`SS`, `ς`/`σ`/`Σ` and friends to one form. */
export function accountKeyOf(account: string): string {
  return account.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/**
 * Validates and normalises a `userAccount` (design section 3): a string of 1-64 characters after NFC,
 * no control characters, no leading or trailing white space.
 * @throws InvalidRequestError naming `field`
 */
export function parseAccount(value: unknown, field = 'userAccount'): Account {
  if (typeof value !== 'string') throw new InvalidRequestError(field, `${field} must be a string.`);
  const account = value.normalize('NFC');
  const length = [...account].length;
  if (length === 0) throw new InvalidRequestError(field, `${field} must not be empty.`);
  if (length > ACCOUNT_MAX_LENGTH) {
    throw new InvalidRequestError(field, `${field} must be at most ${ACCOUNT_MAX_LENGTH} characters.`);
  }
  if (FORBIDDEN.test(account)) throw new InvalidRequestError(field, `${field} must not contain control characters.`);
  if (account.trim() !== account) {
    throw new InvalidRequestError(field, `${field} must not start or end with white space.`);
  }
  return { account, accountKey: accountKeyOf(account) };
}
