import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import agoraToken from 'agora-token';
import { ChatPrivilege, privilegeExpiresAt, readAccessToken } from '../access-token.js';
import { APP_KEY_PART_PATTERN } from '../app-key.js';
import { assertAgoraCredentials } from '../credentials.js';
import { defaultErrorFor, entity, envelope, errorBody, type EnvelopeContext } from './agora-wire.js';
import { EmulatorFaults, type EmulatorFault } from './emulator-faults.js';
import { EmulatorStats } from './emulator-stats.js';
import { EmulatorUsers } from './emulator-users.js';

const { ChatTokenBuilder } = agoraToken;

/** Options of {@link startAgoraEmulator}. */
export interface AgoraEmulatorOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** App ID that app tokens must be issued for (32 hex). */
  readonly appId: string;
  /** App Certificate that app tokens must be signed with (32 hex). */
  readonly appCertificate: string;
  /** org_name of the App Key. */
  readonly orgName: string;
  /** app_name of the App Key. */
  readonly appName: string;
  /** Agora API requests allowed per second (all routes together); beyond it 429 reach_limit. Default: unlimited. */
  readonly rateLimitPerSecond?: number;
  /** Answer a batch containing a taken name with one 400 for the whole batch, as older Easemob apps did. Default false. */
  readonly batchAllOrNothing?: boolean;
}

/** Behaviour that tests may change while the emulator runs. */
export interface AgoraEmulatorSettings {
  rateLimitPerSecond: number | undefined;
  batchAllOrNothing: boolean;
}

/** A running Agora Chat REST emulator. */
export interface AgoraEmulator {
  /** Origin of the server, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  /** What a client takes as its REST API URL (AGORA_REST_API_URL): the origin. */
  readonly restApiUrl: string;
  /** `org_name#app_name`. */
  readonly appKey: string;
  /** `${url}/${orgName}/${appName}`: the prefix of every Agora route. */
  readonly baseUrl: string;
  readonly faults: EmulatorFaults;
  readonly users: EmulatorUsers;
  readonly stats: EmulatorStats;
  readonly settings: AgoraEmulatorSettings;
  /** Clears users, queued faults and stats. */
  reset(): void;
  /** A valid app token for this emulator (what an app server would build). */
  appToken(lifetimeSeconds?: number): string;
  /** Stops listening, cancels hanging requests and closes every connection. */
  close(): Promise<void>;
}

const USERNAME = /^[a-z0-9_.-]{1,64}$/;
const MAX_BATCH = 60;
const MAX_BODY_BYTES = 1024 * 1024;
const CONTROL_PREFIX = '/_emulator/';

class Answered extends Error {}

/**
 * Starts an in-memory emulator of the Agora Chat REST user endpoints (register, get, delete,
 * deactivate, activate, disconnect) on node:http, with Agora's
 * paths, envelopes, error bodies, app token checks, username rules and rate limit, plus fault
 * injection (programmatic via `faults`, or HTTP under `/_emulator/`).
 * @example
 * const emulator = await startAgoraEmulator({ appId, appCertificate, orgName: 'org', appName: 'app' });
 * emulator.faults.failNext(1, { status: 503 });
 * await emulator.close();
 */
export async function startAgoraEmulator(options: AgoraEmulatorOptions): Promise<AgoraEmulator> {
  assertAgoraCredentials(options.appId, options.appCertificate);
  for (const [name, value] of [['orgName', options.orgName], ['appName', options.appName]] as const) {
    if (typeof value !== 'string' || !APP_KEY_PART_PATTERN.test(value)) {
      throw new TypeError(`${name} must be 1-64 of A-Z a-z 0-9 _ -.`);
    }
  }
  const faults = new EmulatorFaults();
  const users = new EmulatorUsers();
  const stats = new EmulatorStats();
  const settings: AgoraEmulatorSettings = {
    rateLimitPerSecond: options.rateLimitPerSecond,
    batchAllOrNothing: options.batchAllOrNothing ?? false,
  };
  const applicationId = randomUUID();
  const hanging = new AbortController();
  // Every hanging request listens for the close: many may hang at once (a service that stopped answering).
  setMaxListeners(0, hanging.signal);
  let window = { second: 0, count: 0 };

  const appToken = (lifetimeSeconds = 86_400): string =>
    ChatTokenBuilder.buildAppToken(options.appId, options.appCertificate, lifetimeSeconds);

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof Answered || res.headersSent || res.destroyed) return;
      send(res, 500, errorBody('internal_server_error', String(err), Date.now()));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname.startsWith(CONTROL_PREFIX)) return control(req, res, url);

    const segments = url.pathname.split('/').filter((s) => s !== '');
    const route = segments.length === 4 ? '/users/{username}'
      : segments.length === 5 ? `/users/{username}/${segments[4] ?? ''}` : `/${segments.slice(2).join('/')}`;
    stats.count(`${req.method ?? 'GET'} ${route}`);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer) stats.sawToken(bearer);

    let dropAnswer = false;
    const fault: EmulatorFault | undefined = faults.take();
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    // Read the body first: a hanging request must still take effect after the client gave up.
    const text = await readBody(req, res, startedAt);
    if (fault?.kind === 'fail') {
      const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
      const { error, description } = defaultErrorFor(fault.status);
      send(res, fault.status, fault.body ?? errorBody(error, description, startedAt), headers);
      return;
    }
    if (fault?.kind === 'delay') {
      const resumed = await sleep(fault.ms, hanging.signal);
      if (!resumed) return;
    }
    if (fault?.kind === 'createThenDrop') dropAnswer = true;

    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      if (dropAnswer) req.socket.destroy();
      else send(res, status, body, headers);
    };
    const fail = (status: number, error: string, description: string): void =>
      reply(status, errorBody(error, description, startedAt));

    // POST .../deactivate and .../activate (ban, unban), GET .../disconnect (force offline).
    function userAction(name: string, user: string, at: string): void {
      const method = name === 'disconnect' ? 'GET' : name === 'deactivate' || name === 'activate' ? 'POST' : undefined;
      if (method === undefined) return fail(404, 'service_resource_not_found', 'Service resource not found');
      if (req.method !== method) return fail(405, 'unsupported_service_operation', `${req.method ?? ''} is not supported on /users/{username}/${name}`);
      if (!users.has(user)) return fail(404, 'service_resource_not_found', 'Service resource not found');
      const timing = { timestamp: Date.now(), duration: Date.now() - startedAt };
      if (name === 'disconnect') {
        users.disconnects.push(user);
        return reply(200, { action: 'get', uri: at, entities: [], data: { result: true }, ...timing });
      }
      const updated = users.setActivated(user, name === 'activate');
      if (name === 'activate') return reply(200, { action: 'activate user', ...timing });
      return reply(200, { action: 'Deactivate user', entities: updated ? [entity(updated)] : [], ...timing });
    }

    const [org, app, resource, rawName, action, ...rest] = segments;
    if (org !== options.orgName || app !== options.appName) {
      return fail(404, 'organization_application_not_found', `Could not find application for ${org ?? ''}/${app ?? ''} from URI: ${url.pathname}`);
    }
    if (resource !== 'users' || rest.length > 0) {
      return fail(404, 'service_resource_not_found', 'Service resource not found');
    }
    if (settings.rateLimitPerSecond !== undefined) {
      const second = Math.floor(Date.now() / 1000);
      if (window.second !== second) window = { second, count: 0 };
      window.count += 1;
      if (window.count > settings.rateLimitPerSecond) {
        stats.rateLimited += 1;
        return fail(429, 'reach_limit', 'This request has reached API limit.');
      }
    }
    if (!authorised(bearer)) {
      const description = req.method === 'POST' && rawName === undefined
        ? 'Registration is not open, please contact the app admin.'
        : 'Unable to authenticate due to expired access token.';
      return fail(401, 'unauthorized', description);
    }

    const common = { orgName: options.orgName, appName: options.appName, applicationId, startedAt };
    if (rawName === undefined) {
      if (req.method === 'GET') {
        const limit = Math.min(Number(url.searchParams.get('limit') ?? 10) || 10, 100);
        const list = users.list().slice(0, limit).map(entity);
        return reply(200, envelope({ ...common, action: 'get', uri: `${uriOf(req)}` }, { entities: list, count: list.length }));
      }
      if (req.method !== 'POST') return fail(405, 'unsupported_service_operation', `${req.method ?? ''} is not supported on /users`);
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        return fail(415, 'web_application', 'HTTP 415 Unsupported Media Type: send Content-Type: application/json');
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        return fail(400, 'json_parse', `Unexpected character in JSON body: ${(err as Error).message}`);
      }
      const uri = uriOf(req);
      if (Array.isArray(body)) return createBatch(body, reply, fail, { ...common, action: 'post', uri });
      if (typeof body !== 'object' || body === null) return fail(400, 'illegal_argument', 'This is an invalid request.');
      const problem = checkUser(body as Record<string, unknown>);
      if (problem) return fail(400, 'illegal_argument', problem);
      const { username, password } = body as { username: string; password?: string };
      const created = users.add(username, password);
      if (!created) return fail(400, 'duplicate_unique_property_exists', duplicateText(username));
      return reply(200, envelope({ ...common, action: 'post', uri }, { entities: [entity(created)] }));
    }

    let username: string;
    try {
      username = decodeURIComponent(rawName);
    } catch {
      return fail(400, 'illegal_argument', 'This is an invalid request.');
    }
    const uri = uriOf(req);
    if (action !== undefined) return userAction(action, username, uri);
    if (req.method === 'GET') {
      const user = users.get(username);
      if (!user) return fail(404, 'service_resource_not_found', 'Service resource not found');
      return reply(200, envelope({ ...common, action: 'get', uri }, { entities: [entity(user)], count: 1 }));
    }
    if (req.method === 'DELETE') {
      const user = users.delete(username);
      if (!user) return fail(404, 'service_resource_not_found', 'Service resource not found');
      return reply(200, envelope({ ...common, action: 'delete', uri }, { entities: [entity(user)] }));
    }
    return fail(405, 'unsupported_service_operation', `${req.method ?? ''} is not supported on /users/{username}`);
  }

  function createBatch(
    items: unknown[],
    reply: (status: number, body: unknown) => void,
    fail: (status: number, error: string, description: string) => void,
    request: EnvelopeContext,
  ): void {
    if (items.length === 0 || items.length > MAX_BATCH) {
      return fail(400, 'illegal_argument', `A batch must register 1 to ${MAX_BATCH} users.`);
    }
    if (items.some((item) => typeof item !== 'object' || item === null || Array.isArray(item))) {
      return fail(400, 'illegal_argument', 'This is an invalid request.');
    }
    const records = items as Array<Record<string, unknown>>;
    if (settings.batchAllOrNothing) {
      const taken = records.find((r) => typeof r['username'] === 'string' && users.has(r['username']));
      if (taken) return fail(400, 'duplicate_unique_property_exists', duplicateText(String(taken['username'])));
      const bad = records.map(checkUser).find((p) => p !== undefined);
      if (bad) return fail(400, 'illegal_argument', bad);
    }
    const created: Array<Record<string, unknown>> = [];
    const data: Array<{ username: unknown; registerUserFailReason: string }> = [];
    for (const record of records) {
      const problem = checkUser(record);
      if (problem) {
        data.push({ username: record['username'], registerUserFailReason: problem });
        continue;
      }
      const username = record['username'] as string;
      const user = users.add(username, record['password'] as string | undefined);
      if (user) created.push(entity(user));
      else data.push({ username, registerUserFailReason: `the ${username} already exists` });
    }
    reply(200, envelope(request, { entities: created, data }));
  }

  function authorised(bearer: string | undefined): boolean {
    if (!bearer) return false;
    const token = readAccessToken(bearer, options.appId, options.appCertificate);
    if (!token) return false;
    // REST accepts app tokens only: the Chat service with the app privilege and no user.
    const expiresAt = privilegeExpiresAt(token, ChatPrivilege.app);
    return expiresAt !== undefined && expiresAt > Date.now() && token.chat?.userId === '';
  }

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice(CONTROL_PREFIX.length - 1);
    const bad = (message: string): void => send(res, 400, { error: 'bad_request', message });
    const json = async (): Promise<Record<string, unknown>> => {
      const text = await readBody(req, res, Date.now());
      if (text.trim() === '') return {};
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('expected a JSON object');
      return parsed as Record<string, unknown>;
    };
    try {
      if (path === '/users' && req.method === 'GET') {
        return send(res, 200, { users: users.list().map(entity), disconnects: users.disconnects });
      }
      if (path === '/users' && req.method === 'POST') {
        const { username, password } = await json();
        if (typeof username !== 'string' || username === '') return bad('username is required');
        const user = users.add(username, typeof password === 'string' ? password : undefined);
        return user ? send(res, 201, entity(user)) : send(res, 409, { error: 'exists', message: `${username} exists` });
      }
      if (path === '/faults' && req.method === 'POST') {
        const body = await json();
        const count = body['count'] === undefined ? 1 : Number(body['count']);
        const fault = toFault(body);
        if (typeof fault === 'string') return bad(fault);
        faults.add(count, fault);
        return send(res, 200, { pending: faults.pending });
      }
      if (path === '/faults' && req.method === 'DELETE') {
        faults.clear();
        return send(res, 200, { pending: 0 });
      }
      if (path === '/faults' && req.method === 'GET') return send(res, 200, { pending: faults.pending });
      if (path === '/stats' && req.method === 'GET') return send(res, 200, stats.toJSON());
      if (path === '/reset' && req.method === 'POST') {
        reset();
        return send(res, 200, { reset: true });
      }
      if (path === '/app-token' && req.method === 'POST') {
        return send(res, 200, { accessToken: appToken(), expiresIn: 86_400 });
      }
      return send(res, 404, { error: 'not_found', message: `No control route ${req.method ?? ''} ${url.pathname}` });
    } catch (err) {
      if (err instanceof Answered) return;
      return bad(err instanceof Error ? err.message : String(err));
    }
  }

  function reset(): void {
    users.clear();
    faults.clear();
    stats.reset();
    window = { second: 0, count: 0 };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    restApiUrl: url,
    appKey: `${options.orgName}#${options.appName}`,
    baseUrl: `${url}/${options.orgName}/${options.appName}`,
    faults,
    users,
    stats,
    settings,
    reset,
    appToken,
    close: async () => {
      hanging.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function toFault(body: Record<string, unknown>): EmulatorFault | string {
  switch (body['kind']) {
    case 'fail': {
      const status = Number(body['status']);
      if (!Number.isInteger(status)) return 'a "fail" fault needs a numeric status';
      const retryAfter = body['retryAfter'];
      return {
        kind: 'fail',
        status,
        ...(body['body'] === undefined ? {} : { body: body['body'] }),
        ...(typeof retryAfter === 'number' || typeof retryAfter === 'string' ? { retryAfter } : {}),
      };
    }
    case 'delay':
      return { kind: 'delay', ms: Number(body['ms']) };
    case 'drop':
      return { kind: 'drop' };
    case 'createThenDrop':
      return { kind: 'createThenDrop' };
    default:
      return 'kind must be one of fail, delay, drop, createThenDrop';
  }
}

function checkUser(record: Record<string, unknown>): string | undefined {
  const { username, password } = record;
  if (username === undefined || username === null || username === '') return "Entity 'user' requires a property named username.";
  if (typeof username !== 'string' || !USERNAME.test(username)) return `${String(username)} is not legal.`;
  if (password !== undefined && (typeof password !== 'string' || Buffer.byteLength(password) > 64)) {
    return 'password must be a string of at most 64 bytes.';
  }
  return undefined;
}

function duplicateText(username: string): string {
  return `Application null Entity user requires that property named username be unique, value of ${username} exists`;
}

function uriOf(req: IncomingMessage): string {
  return `http://${req.headers.host ?? 'localhost'}${(req.url ?? '/').split('?')[0] ?? '/'}`;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const isText = typeof body === 'string';
  const payload = isText ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

async function readBody(req: IncomingMessage, res: ServerResponse, startedAt: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      send(res, 413, errorBody('web_application', 'Request entity too large', startedAt));
      req.socket.destroy();
      throw new Answered();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Resolves true after `ms`, or false when the emulator closes first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
