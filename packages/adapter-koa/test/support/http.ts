import { request as httpRequest } from 'node:http';
import { CONTRACT_CHECKED, expectMatchesContract } from './contract.js';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  readonly body: any;
}

export interface RequestOptions {
  readonly headers?: Record<string, string>;
  /** A string or buffer is sent as is; anything else as JSON with Content-Type application/json. */
  readonly body?: unknown;
  /** Raw path, sent without any normalisation (bad percent-encoding included). */
  readonly timeoutMs?: number;
  /** The client's own loopback address (127.0.0.2, ...), so per-address limits of one test touch no other. */
  readonly localAddress?: string;
}

/** One request over node:http without keep-alive and without any client-side normalisation. */
export function request(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { ...options.headers };
  let payload: Buffer | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) {
      payload = Buffer.from(options.body as string | Buffer);
    } else {
      payload = Buffer.from(JSON.stringify(options.body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    }
    headers['Content-Length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers, agent: false, timeout: options.timeoutMs ?? 15_000,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            body = undefined;
          }
          const status = res.statusCode ?? 0;
          try {
            if (CONTRACT_CHECKED.has(url.origin)) expectMatchesContract(method, path, status, body, res.headers['content-type']);
          } catch (err) {
            reject(err);
            return;
          }
          resolve({ status, headers: res.headers, text, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** A small client bound to one server. */
export function client(baseUrl: string) {
  return {
    request: (method: string, path: string, options?: RequestOptions) => request(baseUrl, method, path, options),
    register: (userAccount: unknown, userPassword: unknown, path = '/app/user/register') =>
      request(baseUrl, 'POST', path, { body: { userAccount, userPassword } }),
    login: (userAccount: unknown, userPassword: unknown, options: { path?: string; headers?: Record<string, string> } = {}) =>
      request(baseUrl, 'POST', options.path ?? '/app/user/login', { body: { userAccount, userPassword }, ...(options.headers ? { headers: options.headers } : {}) }),
    token: (query: string, bearer?: string) =>
      request(baseUrl, 'GET', `/token?${query}`, bearer === undefined ? {} : { headers: { Authorization: `Bearer ${bearer}` } }),
    renew: (bearer?: string) =>
      request(baseUrl, 'POST', '/app/user/token/renew', bearer === undefined ? {} : { headers: { Authorization: `Bearer ${bearer}` } }),
  };
}
