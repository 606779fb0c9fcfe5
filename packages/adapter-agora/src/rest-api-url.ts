/**
 * Reads the Agora Chat REST API address of an app's data center (the Console shows a bare domain such
 * as `a61.chat.agora.io`; https is assumed then). `http://` is accepted for emulators and local proxies.
 * @param name what the caller calls the value, for the error message (a setting, an option)
 * @returns the origin, e.g. `https://a61.chat.agora.io`
 * @throws TypeError naming `name` for anything but an http(s) origin
 */
export function parseRestApiUrl(value: unknown, name = 'restApiUrl'): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`${name} is required, e.g. https://a61.chat.agora.io.`);
  const trimmed = value.trim();
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  let url: URL;
  try {
    url = new URL(hasScheme ? trimmed : `https://${trimmed}`);
  } catch {
    throw new TypeError(`${name} is not a valid URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`${name} must use https:// (or http:// for an emulator or local proxy).`);
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new TypeError(`${name} must be an origin such as https://a61.chat.agora.io (no path, query or credentials).`);
  }
  return url.origin;
}
