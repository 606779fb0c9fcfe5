/**
 * One of several processes writing to one SQLite file at once (see multi-process.test.ts): it opens
 * the database as a server does, says `ready`, and on `go` (stdin) makes its writes all at once, then
 * prints what happened as one JSON line.
 * Arguments: <sqlite file> <name> <shared account key> <shared throttle key> <writes of each kind>
 */
import { AccountExistsError } from '@chat-app-server/core';
import { createDatabase, KnexLoginThrottle, KnexUserRepository } from '../../src/index.js';
import { aPendingUser, T0 } from './fixtures.js';

const [file, name, sharedAccountKey, throttleKey, countArg] = process.argv.slice(2) as [string, string, string, string, string];
const count = Number(countArg);
const knex = createDatabase(`sqlite:${file}`);
const users = new KnexUserRepository(knex);
const throttle = new KnexLoginThrottle(knex);
const drawUid = () => 1 + Math.floor(Math.random() * (2 ** 32 - 2));

// Every connection of the pool open before the start, so that the writes meet, not the connecting.
await Promise.all(Array.from({ length: 4 }, () => knex.raw('select 1')));
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));

const errorOf = (err: unknown) => (err instanceof AccountExistsError ? 'AccountExistsError' : `${(err as Error).name}: ${(err as Error).message}`);
const settle = (work: Array<Promise<unknown>>) =>
  Promise.allSettled(work).then((results) => results.map((r) => (r.status === 'fulfilled' ? 'ok' : errorOf(r.reason))));
const [distinct, racers, claims] = await Promise.all([
  settle(Array.from({ length: count }, (_, i) => users.insertPending(aPendingUser({ accountKey: `${name}-distinct-${i}-${process.pid}` }), drawUid))),
  settle(Array.from({ length: count }, () => users.insertPending(aPendingUser({ accountKey: sharedAccountKey }), drawUid))),
  settle(Array.from({ length: count }, () => throttle.claim([{ key: throttleKey, max: 1_000_000, windowSeconds: 600 }], T0))),
]);
process.stdout.write(`${JSON.stringify({ distinct, racers, claims })}\n`);
await knex.destroy();
process.stdin.destroy();
