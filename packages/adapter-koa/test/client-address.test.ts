import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidCredentialsError, type LoginUserCommand } from '@chat-app-server/core';
import { expect } from 'chai';
import { createApp, type HttpCore } from '../src/index.js';
import { request } from './support/http.js';

// What the HTTP layer hands to login as the client address (the login throttle's key), behind
// proxies that append to X-Forwarded-For as nginx's $proxy_add_x_forwarded_for does.
describe('client address behind reverse proxies', () => {
  const seen: Array<string | undefined> = [];
  const recordingCore = {
    loginUser: {
      execute: async (input: LoginUserCommand) => {
        seen.push(input.clientAddress);
        throw new InvalidCredentialsError();
      },
    },
  } as unknown as HttpCore;

  async function addressSeen(proxy: boolean | number, forwardedFor?: string): Promise<string | undefined> {
    const server: Server = createServer(createApp(recordingCore, { proxy }).callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'X-Forwarded-For': forwardedFor };
      seen.length = 0;
      const res = await request(url, 'POST', '/app/user/login', { headers, body: { userAccount: 'someone', userPassword: 'wrong password' } });
      expect(res.status, res.text).to.equal(401);
      return seen[0];
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('with one proxy, takes the address the proxy appended, not the entries the client wrote', async () => {
    expect(await addressSeen(true, '203.0.113.9')).to.equal('203.0.113.9');
    for (const spoofed of ['1.1.1.1', '2.2.2.2, 3.3.3.3']) {
      expect(await addressSeen(true, `${spoofed}, 203.0.113.9`)).to.equal('203.0.113.9');
      expect(await addressSeen(1, `${spoofed}, 203.0.113.9`)).to.equal('203.0.113.9');
    }
  });

  it('with N proxies, takes the N-th entry from the right', async () => {
    expect(await addressSeen(2, '1.1.1.1, 203.0.113.9, 10.0.0.2')).to.equal('203.0.113.9');
    expect(await addressSeen(3, '1.1.1.1, 198.51.100.4, 10.0.0.3, 10.0.0.2')).to.equal('198.51.100.4');
  });

  it('without a trusted proxy, ignores X-Forwarded-For and takes the socket address', async () => {
    expect(await addressSeen(false, '203.0.113.9')).to.equal('127.0.0.1');
    expect(await addressSeen(0, '203.0.113.9')).to.equal('127.0.0.1');
  });
});
