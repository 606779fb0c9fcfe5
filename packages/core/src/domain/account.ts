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
 * Validates and normalises an account (design section 3): a string of 1-64 characters after NFC,
 * no control characters, no leading or trailing white space.
 * @throws InvalidRequestError naming `field`
 */
export function parseAccount(value: unknown, field = 'account'): Account {
  if (typeof value !== 'string') throw InvalidRequestError.rule(field, 'must be a string.');
  const account = value.normalize('NFC');
  const length = [...account].length;
  if (length === 0) throw InvalidRequestError.rule(field, 'must not be empty.');
  if (length > ACCOUNT_MAX_LENGTH) throw InvalidRequestError.rule(field, `must be at most ${ACCOUNT_MAX_LENGTH} characters.`);
  if (FORBIDDEN.test(account)) throw InvalidRequestError.rule(field, 'must not contain control characters.');
  if (account.trim() !== account) throw InvalidRequestError.rule(field, 'must not start or end with white space.');
  return { account, accountKey: accountKeyOf(account) };
}

/** True when `account` names the same account as `principalAccountKey` (case-insensitively). */
export function isSameAccount(account: string, accountKey: string): boolean {
  return accountKeyOf(account) === accountKey;
}
