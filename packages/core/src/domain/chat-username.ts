/** Agora Chat's user name rule: 1-64 of `a-z 0-9 _ - .` (lower case only). */
export const CHAT_USERNAME_PATTERN = /^[a-z0-9_.-]{1,64}$/;

export function isValidChatUsername(value: string): boolean {
  return CHAT_USERNAME_PATTERN.test(value);
}
