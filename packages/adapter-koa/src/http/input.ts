import { InvalidRequestError, UnauthenticatedError } from '@chat-app-server/core';
import { parse as parseMediaType } from 'content-type';
import type { Context } from 'koa';
import { HttpError } from './error-status.js';

/** Default limit of a JSON request body. Our bodies are two short strings; 16 KiB is generous. */
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the request body as one JSON object.
 * @throws HttpError 415 for another media type, a charset other than UTF-8 or a content encoding;
 *   413 above `limitBytes`
 * @throws InvalidRequestError for an empty body, invalid UTF-8, malformed JSON or JSON that is not an object
 */
export async function readJsonObject(ctx: Context, limitBytes: number): Promise<Record<string, unknown>> {
  assertJsonMediaType(ctx.get('Content-Type'));
  const encoding = ctx.get('Content-Encoding').toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new HttpError('unsupported_media_type', 'Compressed request bodies are not accepted.');
  }
  const declared = ctx.request.length;
  if (declared !== undefined && declared > limitBytes) throw tooLarge(ctx, limitBytes);

  const raw = await readRaw(ctx, limitBytes);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new InvalidRequestError('body', 'The request body is not valid UTF-8.');
  }
  if (text.trim() === '') throw new InvalidRequestError('body', 'The request body must be a JSON object.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidRequestError('body', 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRequestError('body', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

/**
 * Accepts `application/json` as RFC 9110 defines media types (type, subtype, parameter names and the
 * charset value compared case-insensitively, white space around `;` and `=`), and no Content-Type at
 * all: the sample apps' clients post JSON without one, and the sample servers read it as JSON.
 */
function assertJsonMediaType(header: string): void {
  if (header === '') return;
  const { type, parameters } = parseMediaType(header);
  if (type !== 'application/json') throw new HttpError('unsupported_media_type', 'Content-Type must be application/json.');
  const charset = parameters['charset']?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpError('unsupported_media_type', 'The JSON body must be UTF-8.');
  }
}

function readRaw(ctx: Context, limitBytes: number): Promise<Buffer> {
  const req = ctx.req;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        reject(tooLarge(ctx, limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      reject(new InvalidRequestError('body', 'The request body could not be read.'));
    };
    const onAborted = onError;
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onAborted);
  });
}

function tooLarge(ctx: Context, limitBytes: number): HttpError {
  // The rest of the body is not read: close the connection after the answer instead of draining it.
  ctx.set('Connection', 'close');
  return new HttpError('payload_too_large', `The request body must be at most ${limitBytes} bytes.`);
}

/**
 * Parses a query string strictly: bad percent-encoding and a repeated parameter of interest are
 * `invalid_request` naming the parameter (a lenient parser would hand arrays or garbled text on).
 * Parameters not in `names` are ignored.
 */
export function parseQuery<N extends string>(querystring: string, names: readonly N[]): Partial<Record<N, string>> {
  const result: Partial<Record<N, string>> = {};
  if (querystring === '') return result;
  for (const pair of querystring.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const name = decodeComponent(rawName, 'query');
    // A route names two or three parameters: a scan is cheaper than building a Set per request.
    if (!(names as readonly string[]).includes(name)) continue;
    if (Object.hasOwn(result, name)) throw new InvalidRequestError(name, `${name} must be given once.`);
    result[name as N] = decodeComponent(rawValue, name);
  }
  return result;
}

function decodeComponent(raw: string, field: string): string {
  // Without '%' or '+' there is nothing to decode and nothing malformed (the usual channel name).
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new InvalidRequestError(field, `${field} is not valid percent-encoding.`);
  }
}

// RFC 6750 b64token; AccessToken2 is "007" + base64.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_TOKEN_LENGTH = 8192;

/**
 * The bearer token of the request, or `undefined` when there is no Authorization header.
 * @throws UnauthenticatedError for an Authorization header that is not a well-formed bearer token
 */
export function bearerTokenOf(ctx: Context): string | undefined {
  const header = ctx.get('Authorization');
  if (header === '') return undefined;
  const match = BEARER.exec(header);
  if (!match || match[1]!.length > MAX_TOKEN_LENGTH) {
    throw new UnauthenticatedError('The Authorization header must be "Bearer <chat user token>".');
  }
  return match[1];
}
