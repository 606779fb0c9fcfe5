import { expect } from 'chai';
import {
  ChatServiceMisconfiguredError, ChatServiceUnavailableError, ERROR_CODES, InvalidRequestError, TooManyAttemptsError,
  UnauthenticatedError,
} from '../src/index.js';
import { httpErrorOf, STATUS } from '../src/http/index.js';

describe('httpErrorOf', function () {
  it('gives every domain error code a 4xx or 5xx status', function () {
    for (const code of ERROR_CODES) expect(STATUS[code], code).to.be.within(400, 599);
  });

  it('answers a client error with its status, code and message, nothing to log', function () {
    expect(httpErrorOf(new InvalidRequestError('userAccount', 'userAccount is required.'))).to.deep.equal({
      status: 400,
      headers: { 'Cache-Control': 'no-store' },
      body: { code: 400, error: 'invalid_request', message: 'userAccount is required.' },
      log: undefined,
    });
  });

  it('sends Retry-After on 429 and 503, from the error or the default, in whole seconds of at least 1', function () {
    expect(httpErrorOf(new TooManyAttemptsError(12.2)).headers).to.include({ 'Retry-After': '13' });
    expect(httpErrorOf(new ChatServiceUnavailableError(undefined, { retryAfterSeconds: 0 })).headers).to.include({ 'Retry-After': '1' });
    const outage = httpErrorOf(new ChatServiceUnavailableError());
    expect(outage).to.deep.include({ status: 503, log: 'warn' });
    expect(outage.headers).to.include({ 'Retry-After': '5' });
    expect(httpErrorOf(new InvalidRequestError('x', 'bad')).headers).to.not.have.property('Retry-After');
  });

  it('challenges for a bearer on unauthenticated', function () {
    const { status, headers } = httpErrorOf(new UnauthenticatedError());
    expect(status).to.equal(401);
    expect(headers).to.include({ 'WWW-Authenticate': 'Bearer realm="chat-app-server"' });
  });

  it('hides the details of a misconfigured chat service from the client and asks to log it as an error', function () {
    const answer = httpErrorOf(new ChatServiceMisconfiguredError('Agora said 401 for app key org#app'));
    expect(answer).to.deep.include({ status: 500, log: 'error' });
    expect(answer.body.error).to.equal('chat_service_misconfigured');
    expect(answer.body.message).to.not.include('org#app');
  });

  it('answers anything that is not a domain error with a generic 500 that reveals nothing', function () {
    for (const err of [new Error('password=hunter2 in a stack'), 'a string', undefined]) {
      expect(httpErrorOf(err)).to.deep.equal({
        status: 500,
        headers: { 'Cache-Control': 'no-store' },
        body: { code: 500, error: 'internal_error', message: 'Internal server error.' },
        log: 'error',
      });
    }
  });
});
