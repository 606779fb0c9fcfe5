import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { expect } from 'chai';
import { API_CONTRACT, apiDocument } from '../../src/index.js';

type Json = Record<string, any>;

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly pattern: RegExp;
  readonly responses: Json;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validators = new Map<unknown, ValidateFunction>();
let operations: Operation[] | undefined;

/** Base URLs of servers whose every response the HTTP suites check against the contract. */
export const CONTRACT_CHECKED = new Set<string>();

/** Checks every response of the server at `url` against the contract until `httpServer` closes. */
export function checkContractOf(url: string, httpServer: { once(event: 'close', listener: () => void): unknown }): string {
  const origin = new URL(url).origin;
  CONTRACT_CHECKED.add(origin);
  httpServer.once('close', () => CONTRACT_CHECKED.delete(origin));
  return url;
}

function compile(schema: unknown): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) validators.set(schema, (validate = ajv.compile(schema as object)));
  return validate;
}

function operationsOf(document: Json): Operation[] {
  const list: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths as Json)) {
    const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const [method, operation] of Object.entries(item as Json)) list.push({ method: method.toUpperCase(), path, pattern, responses: operation.responses });
  }
  return list;
}

// What a path no route serves answers: the error body of one of the profiles.
const anyErrorBody = { anyOf: API_CONTRACT.map(({ profile }) => profile.errorBody) };

/**
 * Fails when a response of the API does not match the OpenAPI document: its status must be documented
 * for its operation and its JSON body must match that status's schema.
 */
export function expectMatchesContract(method: string, rawPath: string, status: number, body: unknown, contentType: string | undefined): void {
  if (method === 'OPTIONS' || method === 'HEAD') return;
  operations ??= operationsOf(apiDocument());
  const path = rawPath.split('?')[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  const operation = operations.find((o) => o.method === method && (o.pattern.test(path) || o.pattern.test(decoded)));
  const where = `${method} ${rawPath} -> ${status}`;
  expect(contentType, `${where}: content type`).to.match(/^application\/json/);
  if (!operation) {
    const validate = compile(anyErrorBody);
    expect(validate(body), `${where}: not an error body of the API: ${ajv.errorsText(validate.errors)}`).to.equal(true);
    return;
  }
  const response = operation.responses[String(status)];
  expect(response, `${where}: status ${status} is not documented for ${operation.method} ${operation.path}`).to.not.equal(undefined);
  const validate = compile(response.content['application/json'].schema);
  expect(validate(body), `${where}: body does not match the contract: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body)}`).to.equal(true);
}

/** Checks a schema example against its schema (the document's examples must be true to it). */
export function exampleMatches(schema: unknown, example: unknown): string | undefined {
  const validate = compile(schema);
  return validate(example) ? undefined : ajv.errorsText(validate.errors);
}
