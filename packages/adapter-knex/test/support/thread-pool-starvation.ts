/**
 * Run in a process of its own (the thread pool's size is fixed when the pool first starts): two of
 * the pool's threads are kept busy, as two password hashes keep them, while one connection holds
 * SQLite's write lock and two more want it. Prints one JSON line: what each write got, and when.
 * Argument: the SQLite file.
 */
import { execFileSync } from 'node:child_process';
import { constants, open } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { createDatabase } from '../../src/index.js';

const file = process.argv[2]!;
const knex = createDatabase(`sqlite:${file}`, { busyTimeoutMs: 500 });
await knex.schema.createTable('t', (table) => table.integer('v'));

// Opening a FIFO for reading blocks its thread until a writer opens it: two busy threads, for as long
// as this script wants, whatever the machine's speed.
const fifo = `${file}.fifo`;
execFileSync('mkfifo', [fifo]);
const busy = [1, 2].map(() => new Promise((resolve) => open(fifo, 'r', (err, fd) => resolve(err ?? fd))));
await new Promise((resolve) => setTimeout(resolve, 100));

const t0 = Date.now();
const outcome = (p: Promise<unknown>) => p.then(() => ({ ok: true, ms: Date.now() - t0 }), (err: { code?: string }) => ({ ok: false, code: err.code, ms: Date.now() - t0 }));
let waiters: Promise<unknown[]> | undefined;
const holder = outcome(knex.transaction(async (trx) => {
  await trx('t').insert({ v: 1 });
  waiters = Promise.all([2, 3].map((v) => outcome(knex('t').insert({ v }))));
  await new Promise((resolve) => setTimeout(resolve, 50));
}));
const result = { holder: await holder, waiters: await waiters };
// Release the busy threads: a writer lets both opens finish.
const writer = await openAsync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
await writer.close();
await Promise.all(busy);
process.stdout.write(`${JSON.stringify(result)}\n`);
await knex.destroy();
