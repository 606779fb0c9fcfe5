import { UnauthenticatedError } from '@chat-app-server/core';
import { expect } from 'chai';
import { AgoraConfigError, createAgoraAdapters, readAgoraSettings, type AgoraAdapters } from '../src/index.js';
import { decodeToken, encodeToken, hasValidSignature } from '../src/testing/index.js';
import { APP_CERT, APP_ID, freshName, startEmulator } from './support.js';

function recordingLogger() {
  const warnings: string[] = [];
  return { warnings, warn: (_fields: Record<string, unknown>, message: string) => void warnings.push(message) };
}

const VALID = {
  AGORA_APP_ID: APP_ID,
  AGORA_APP_CERT: APP_CERT,
  AGORA_APP_KEY: 'testorg#testapp',
  AGORA_REST_API_URL: 'https://a61.chat.agora.io',
};

describe('readAgoraSettings', function () {
  it('reads valid settings with the defaults for lifetime and token subject', function () {
    expect(readAgoraSettings(VALID, 'production')).to.deep.equal({
      agora: { mode: 'agora', appId: APP_ID, appCertificate: APP_CERT, appKey: 'testorg#testapp', restApiUrl: 'https://a61.chat.agora.io' },
      tokenExpireSeconds: 86_400,
      chatTokenSubject: 'username',
      problems: [],
      warnings: [],
    });
  });

  it('names every missing or malformed variable, never echoing the certificate', function () {
    const { problems } = readAgoraSettings(
      { AGORA_APP_ID: 'xyz', AGORA_APP_CERT: 'not-a-secret-shape', AGORA_APP_KEY: 'org', AGORA_TOKEN_EXPIRE_SECONDS: '90000', AGORA_CHAT_TOKEN_SUBJECT: 'id' },
      'production',
    );
    expect(problems).to.deep.equal([
      'AGORA_APP_ID must be 32 hex characters.',
      'AGORA_APP_CERT must be 32 hex characters.',
      'AGORA_APP_KEY: The Agora Chat App Key "org" must contain exactly one "#": "org_name#app_name".',
      'AGORA_REST_API_URL is required (e.g. https://a61.chat.agora.io), or AGORA_REST_API_DOMAIN (bare host).',
      'AGORA_TOKEN_EXPIRE_SECONDS must be a whole number from 1 to 86400, got "90000".',
      'AGORA_CHAT_TOKEN_SUBJECT must be one of username, uuid, got "id".',
    ]);
    expect(problems.join('\n')).to.not.include('not-a-secret-shape');
  });

  it('says why an app key cut at # is missing: dotenv reads an unquoted # as a comment', function () {
    const { problems } = readAgoraSettings({ ...VALID, AGORA_APP_KEY: '' }, 'production');
    expect(problems).to.deep.equal(['AGORA_APP_KEY is required (org_name#app_name; quote it in a .env file, where # starts a comment).']);
  });

  it('chooses the emulator without credentials, which production refuses', function () {
    expect(readAgoraSettings({}, 'development')).to.deep.include({ agora: { mode: 'emulator' }, problems: [] });
    expect(readAgoraSettings({}, 'production').problems).to.have.length(1).and.to.match(/required when NODE_ENV=production/);
  });
});

describe('createAgoraAdapters', function () {
  let adapters: AgoraAdapters | undefined;
  afterEach(async function () {
    await adapters?.close();
    adapters = undefined;
  });

  it('starts the emulator in development, says so, and gives a working provisioner and token issuer', async function () {
    const logger = recordingLogger();
    adapters = await createAgoraAdapters({ NODE_ENV: 'development' }, { logger });
    expect(adapters.mode).to.equal('emulator');
    expect(adapters.restApiUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(logger.warnings.join('\n')).to.match(/DEVELOPMENT MODE.*do NOT work with Agora/s);

    const name = freshName();
    const created = await adapters.chatProvisioner.createUser(name, 'a-random-chat-password');
    expect(adapters.emulator?.users.get(name)?.uuid).to.equal(created.uuid);
    const { token } = await adapters.tokens.issueChatToken({ chatUsername: name, chatUuid: created.uuid });
    expect(await adapters.tokens.verifyChatToken(token)).to.deep.include({ subject: name });

    await adapters.close();
    await expect(adapters.chatProvisioner.createUser(freshName(), 'x'.repeat(16))).to.be.rejectedWith(Error);
  });

  it('refuses to start the emulator in production, naming the variables', async function () {
    const err = await createAgoraAdapters({ NODE_ENV: 'production' }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(AgoraConfigError);
    expect((err as AgoraConfigError).problems.join()).to.match(/AGORA_APP_ID, AGORA_APP_CERT, AGORA_APP_KEY and AGORA_REST_API_URL are required/);
  });

  it('refuses the emulator for any NODE_ENV but unset, development or test (spelled exactly)', async function () {
    for (const NODE_ENV of ['Production', 'PRODUCTION', 'staging', 'Development']) {
      expect(readAgoraSettings({}, NODE_ENV).problems.join(), NODE_ENV).to.include(`required when NODE_ENV=${NODE_ENV}`);
      await expect(createAgoraAdapters({ NODE_ENV }), NODE_ENV).to.be.rejectedWith(AgoraConfigError);
    }
    for (const nodeEnv of ['development', 'test']) expect(readAgoraSettings({}, nodeEnv).problems, nodeEnv).to.deep.equal([]);
  });

  it('gives the development emulator random credentials: no published certificate, no other process signs its tokens', async function () {
    const FORMER_CONSTANT_CERT = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    const one = await createAgoraAdapters({ NODE_ENV: 'development' }, { logger: recordingLogger() });
    const two = await createAgoraAdapters({ NODE_ENV: 'development' }, { logger: recordingLogger() });
    try {
      const { token } = await one.tokens.issueChatToken({ chatUsername: 'dev', chatUuid: null });
      expect(hasValidSignature(token, FORMER_CONSTANT_CERT)).to.equal(false);
      await expect(two.tokens.verifyChatToken(token)).to.be.rejectedWith(UnauthenticatedError);
      const forged = encodeToken(
        { ...decodeToken(token), services: [{ type: 5, privileges: { 1: 600 }, userId: 'dev' }], expire: 600 }, FORMER_CONSTANT_CERT,
      );
      await expect(one.tokens.verifyChatToken(forged)).to.be.rejectedWith(UnauthenticatedError);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('refuses malformed settings with every problem in one error, starting nothing', async function () {
    const err = await createAgoraAdapters({ AGORA_APP_ID: APP_ID }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(AgoraConfigError);
    expect((err as Error).message).to.match(/^Invalid Agora configuration:\n  - AGORA_APP_CERT is required/);
    expect((err as AgoraConfigError).problems).to.have.length(3);
  });

  it('talks to the Chat REST API it is given, from the environment or an object, with the configured lifetime', async function () {
    const emulator = await startEmulator();
    try {
      const env = { AGORA_APP_ID: APP_ID, AGORA_APP_CERT: APP_CERT, AGORA_APP_KEY: emulator.appKey, AGORA_REST_API_URL: emulator.restApiUrl };
      const fromObject = { appId: APP_ID, appCertificate: APP_CERT, appKey: emulator.appKey, restApiUrl: emulator.restApiUrl, tokenExpireSeconds: 600 };
      for (const source of [{ ...env, AGORA_TOKEN_EXPIRE_SECONDS: '600' }, fromObject]) {
        adapters = await createAgoraAdapters(source, { nodeEnv: 'test', logger: recordingLogger() });
        expect(adapters).to.deep.include({ mode: 'agora', emulator: undefined, restApiUrl: emulator.restApiUrl });
        const name = freshName();
        await adapters.chatProvisioner.createUser(name, 'a-random-chat-password');
        expect(emulator.users.has(name)).to.equal(true);
        const issued = await adapters.tokens.issueChatToken({ chatUsername: name, chatUuid: null });
        const decoded = decodeToken(issued.token);
        expect(decoded.expire).to.equal(600);
        await adapters.close();
      }
    } finally {
      await emulator.close();
    }
  });

  it('warns about an http:// REST API URL outside development', async function () {
    const logger = recordingLogger();
    adapters = await createAgoraAdapters({ ...VALID, AGORA_REST_API_URL: 'http://chat-proxy.internal:8080' }, { nodeEnv: 'production', logger });
    expect(logger.warnings).to.deep.equal([
      'AGORA_REST_API_URL uses http://: Agora app tokens and chat passwords travel unencrypted. Use https:// outside development.',
    ]);
  });
});
