import { Validator } from '@seriousme/openapi-schema-validator';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect } from 'chai';
import { apiDocument, createRouter, type HttpCore } from '../src/index.js';
import { exampleMatches, expectMatchesContract } from './support/contract.js';
import { startTestEmulator, startTestServer, type TestServer } from './support/harness.js';
import { request } from './support/http.js';

type Json = Record<string, any>;

/** Every (method, path) @koa/router serves, in OpenAPI's path syntax. */
function servedRoutes(): string[] {
  const router = createRouter({} as HttpCore, { tokenAuth: 'bearer' });
  const routes: string[] = [];
  for (const layer of router.stack) {
    for (const method of layer.methods) {
      if (method === 'HEAD') continue; // @koa/router adds HEAD to every GET
      routes.push(`${method} ${String(layer.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
  }
  return routes;
}

function documentedRoutes(document: Json): string[] {
  return Object.entries(document.paths as Json).flatMap(([path, item]) => Object.keys(item as Json).map((m) => `${m.toUpperCase()} ${path}`));
}

describe('the OpenAPI contract', function () {
  const document = apiDocument() as Json;

  it('is a valid OpenAPI 3.1 document for a standard validator', async function () {
    const result = await new Validator().validate(document);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).to.equal(undefined);
    expect(result.valid).to.equal(true);
    expect(document.openapi).to.equal('3.1.0');
  });

  it('documents every route of the router, and nothing the router does not serve', function () {
    const served = servedRoutes();
    expect(served.length).to.be.greaterThan(5);
    for (const route of served) expect(documentedRoutes(document), `${route} is missing from /openapi.json`).to.include(route);
    expect(documentedRoutes(document).sort()).to.deep.equal([...new Set(served)].sort());
  });

  it('gives every operation a success and error responses with bodies, each example true to its schema', function () {
    for (const [path, item] of Object.entries(document.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.responses['200'], where).to.not.equal(undefined);
        expect(op.responses['500'], `${where} documents internal_error`).to.not.equal(undefined);
        for (const [status, response] of Object.entries(op.responses as Json)) {
          const media = response.content['application/json'];
          const examples: unknown[] = media.example !== undefined ? [media.example] : Object.values(media.examples as Json).map((e) => e.value);
          expect(examples, `${where} ${status} has examples`).to.not.be.empty;
          for (const example of examples) expect(exampleMatches(media.schema, example), `${where} ${status}`).to.equal(undefined);
        }
        const body = op.requestBody?.content['application/json'];
        if (body) expect(exampleMatches(body.schema, body.example), `${where} request`).to.equal(undefined);
      }
    }
  });

  it('catches a response that breaks it: an undocumented status, a wrong field, a path no route serves', function () {
    const token = { code: 200, accessToken: '007abc', expireTimestamp: 1, chatUserName: 'jack', agoraUid: '12' };
    expectMatchesContract('POST', '/app/user/login', 200, token, 'application/json');
    expect(() => expectMatchesContract('POST', '/app/user/login', 200, { ...token, agoraUid: 12 }, 'application/json')).to.throw(/agoraUid/);
    expect(() => expectMatchesContract('POST', '/app/user/login', 403, { code: 403, error: 'forbidden', message: 'no' }, 'application/json'))
      .to.throw(/403 is not documented/);
    expect(() => expectMatchesContract('GET', '/nowhere', 404, { oops: true }, 'application/json')).to.throw(/not an error body/);
  });

  describe('served', function () {
    let emulator: AgoraEmulator;
    let server: TestServer;
    before(async function () {
      emulator = await startTestEmulator();
      server = await startTestServer('sqlite', emulator);
    });
    after(async function () {
      await server?.stop();
      await emulator?.close();
    });

    it('at GET /openapi.json', async function () {
      const res = await request(server.url, 'GET', '/openapi.json');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal(JSON.parse(JSON.stringify(document)));
    });
  });
});
