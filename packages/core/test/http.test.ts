import { expect } from 'chai';
import {
  ChatServiceMisconfiguredError, ChatServiceUnavailableError, ChatUserExistsError, DatabaseUnavailableError, ERROR_CODES, InvalidRequestError, PORT_ERROR_CODES,
  TooManyAttemptsError, UnauthenticatedError, type ClientErrorCode,
} from '../src/index.js';
import { DJANGO_ERRORS, errorResponse, HttpError, type ErrorLogger } from '../src/http/index.js';

function recordingLogger(): ErrorLogger & { lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  return {
    lines,
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    error: (fields, message) => lines.push({ level: 'error', fields, message }),
  };
}

describe('errorResponse with the default (Django) table', function () {
  const render = (err: unknown, logger = recordingLogger()) => errorResponse(err, DJANGO_ERRORS, { logger, requestId: 'req-1' });

  it('gives every client-facing code a 4xx or 5xx status', function () {
    const clientCodes = ERROR_CODES.filter((c) => !(PORT_ERROR_CODES as readonly string[]).includes(c)) as ClientErrorCode[];
    for (const code of clientCodes) expect(DJANGO_ERRORS.status[code], code).to.be.within(400, 599);
  });

  it('answers a client error with its status, code and message, and logs nothing', function () {
    const logger = recordingLogger();
    expect(render(InvalidRequestError.rule('account', 'must not be empty.'), logger)).to.deep.equal({
      status: 400,
      headers: { 'Cache-Control': 'no-store' },
      body: { code: 400, error: 'invalid_request', message: 'userAccount must not be empty.' },
    });
    expect(logger.lines).to.deep.equal([]);
  });

  it('sends Retry-After on 429 and 503, from the error or the default, in whole seconds of at least 1', function () {
    expect(render(new TooManyAttemptsError(12.2)).headers).to.include({ 'Retry-After': '13' });
    expect(render(new ChatServiceUnavailableError(undefined, { retryAfterSeconds: 0 })).headers).to.include({ 'Retry-After': '1' });
    const logger = recordingLogger();
    const outage = render(new ChatServiceUnavailableError(), logger);
    expect(outage.status).to.equal(503);
    expect(outage.headers).to.include({ 'Retry-After': '5' });
    expect(logger.lines.map((l) => l.level)).to.deep.equal(['warn']);
    expect(render(InvalidRequestError.rule('x', 'is bad.')).headers).to.not.have.property('Retry-After');
  });

  it('answers a database outage 503 database_unavailable with Retry-After, the driver\'s details only in the log', function () {
    const logger = recordingLogger();
    const driverError = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432 password authentication for user app'), { code: 'ECONNREFUSED' });
    const answer = render(new DatabaseUnavailableError({ cause: driverError }), logger);
    expect(answer.status).to.equal(503);
    expect(answer.headers).to.include({ 'Retry-After': '5' });
    expect(answer.body).to.include({ code: 503, error: 'database_unavailable' });
    expect(JSON.stringify(answer.body)).to.not.match(/ECONNREFUSED|10\.1\.2\.3|5432|password/);
    expect(logger.lines).to.have.length(1);
    expect(logger.lines[0]).to.include({ level: 'warn', message: 'request failed: database unavailable' });
    expect(logger.lines[0]!.fields).to.include({ requestId: 'req-1', code: 'database_unavailable' });
    expect((logger.lines[0]!.fields['err'] as Error).cause).to.equal(driverError);
  });

  it('challenges for a bearer on unauthenticated', function () {
    const { status, headers } = render(new UnauthenticatedError());
    expect(status).to.equal(401);
    expect(headers).to.include({ 'WWW-Authenticate': 'Bearer realm="chat-app-server"' });
  });

  it('hides a misconfigured chat service from the client and logs it as an error', function () {
    const logger = recordingLogger();
    const answer = render(new ChatServiceMisconfiguredError('Agora said 401 for app key org#app'), logger);
    expect(answer.status).to.equal(500);
    expect(answer.body).to.include({ error: 'chat_service_misconfigured' });
    expect(JSON.stringify(answer.body)).to.not.include('org#app');
    expect(logger.lines.map((l) => l.level)).to.deep.equal(['error']);
  });

  it('renders HTTP-layer errors with their status and headers', function () {
    expect(render(new HttpError('method_not_allowed', 'Use GET.', { Allow: 'GET' }))).to.deep.equal({
      status: 405,
      headers: { Allow: 'GET', 'Cache-Control': 'no-store' },
      body: { code: 405, error: 'method_not_allowed', message: 'Use GET.' },
    });
  });

  it('answers anything else, a port error included, with a generic 500 that reveals nothing, logged once', function () {
    for (const err of [new Error('password=hunter2 in a stack'), new ChatUserExistsError('jack'), 'a string', undefined]) {
      const logger = recordingLogger();
      expect(render(err, logger)).to.deep.equal({
        status: 500,
        headers: { 'Cache-Control': 'no-store' },
        body: { code: 500, error: 'internal_error', message: 'Internal server error.' },
      });
      expect(logger.lines).to.have.length(1);
      expect(logger.lines[0]).to.deep.include({ level: 'error', message: 'unexpected error' });
      expect(logger.lines[0]?.fields).to.include({ requestId: 'req-1' });
    }
  });
});
