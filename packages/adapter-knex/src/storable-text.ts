import { InvalidRequestError } from '@chat-app-server/core';

/**
 * Longest value, in UTF-16 code units, of a uniquely indexed text column. PostgreSQL's btree entries
 * are limited to about 2.7 KB; 512 units are at most 1.5 KB of UTF-8, far above the domain's 64 characters.
 */
export const MAX_INDEXED_TEXT_LENGTH = 512;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when `value` round-trips exactly through both drivers: no NUL (PostgreSQL rejects it in text,
 * error 22021) and no lone surrogate (it would become U+FFFD on the way to UTF-8), and at most `maxLength`
 * code units. The rule holds on both dialects so that they behave alike.
 */
export function isStorableText(value: string, maxLength = Number.POSITIVE_INFINITY): boolean {
  return value.length <= maxLength && !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/**
 * Rejects a value that could not be stored exactly with a domain error instead of a driver error.
 * @throws InvalidRequestError naming `field`
 */
export function assertStorableText(field: string, value: string, maxLength = Number.POSITIVE_INFINITY): void {
  if (value.length > maxLength) throw InvalidRequestError.rule(field, `must be at most ${maxLength} characters.`);
  if (!isStorableText(value)) throw InvalidRequestError.rule(field, 'must not contain NUL or unpaired surrogates.');
}
