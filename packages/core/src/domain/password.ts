import { InvalidRequestError } from '../errors.js';

export const PASSWORD_MAX_BYTES = 1024;
export const DEFAULT_PASSWORD_MIN_LENGTH = 8;

/**
 * A password for a new account: at least `minLength` characters, at most 1024 bytes of UTF-8.
 * @throws InvalidRequestError naming `field`
 */
export function parseNewPassword(value: unknown, minLength = DEFAULT_PASSWORD_MIN_LENGTH, field = 'password'): string {
  const password = parsePresentedPassword(value, field);
  if ([...password].length < minLength) throw InvalidRequestError.rule(field, `must be at least ${minLength} characters.`);
  return password;
}

/**
 * A password presented at login: only type and size are checked, so that a later change of the
 * minimum length never locks out existing accounts.
 */
export function parsePresentedPassword(value: unknown, field = 'password'): string {
  if (typeof value !== 'string') throw InvalidRequestError.rule(field, 'must be a string.');
  if (value.length === 0) throw InvalidRequestError.rule(field, 'must not be empty.');
  if (Buffer.byteLength(value, 'utf8') > PASSWORD_MAX_BYTES) {
    throw InvalidRequestError.rule(field, `must be at most ${PASSWORD_MAX_BYTES} bytes.`);
  }
  return value;
}
