import { randomInt } from 'node:crypto';

export const AGORA_UID_MIN = 1;
/** The largest RTC uid Agora accepts (an unsigned 32-bit integer); users created before 2^31 draws may hold one. */
export const AGORA_UID_MAX = 2 ** 32 - 1;
/**
 * The largest uid drawn for new users: Java and Kotlin clients (Agora's samples among them) parse uids
 * into a signed 32-bit `int`, which fails above 2^31-1.
 */
export const AGORA_UID_DRAW_MAX = 2 ** 31 - 1;

/** A random RTC uid in 1..AGORA_UID_DRAW_MAX (0 is Agora's wildcard and never handed out). */
export function drawAgoraUid(): number {
  return randomInt(AGORA_UID_MIN, AGORA_UID_DRAW_MAX + 1);
}

/** Any uid a user may hold, including those drawn in 1..2^32-1 before draws stopped at 2^31-1. */
export function isValidAgoraUid(value: number): boolean {
  return Number.isInteger(value) && value >= AGORA_UID_MIN && value <= AGORA_UID_MAX;
}
