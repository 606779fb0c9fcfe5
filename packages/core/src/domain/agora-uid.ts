import { randomInt } from 'node:crypto';

export const AGORA_UID_MIN = 1;
export const AGORA_UID_MAX = 2 ** 32 - 1;

/** A random RTC uid in 1..AGORA_UID_MAX (0 is Agora's wildcard and never handed out). */
export function drawAgoraUid(): number {
  return randomInt(AGORA_UID_MIN, AGORA_UID_MAX + 1);
}

export function isValidAgoraUid(value: number): boolean {
  return Number.isInteger(value) && value >= AGORA_UID_MIN && value <= AGORA_UID_MAX;
}
