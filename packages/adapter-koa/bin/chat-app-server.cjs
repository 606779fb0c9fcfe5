#!/usr/bin/env node
'use strict';
// Launcher for the standalone server. CommonJS so that it runs before anything touches libuv's
// thread pool, which is created once, on first use, with the size and CPU priority it gets then:
// - 8 threads (unless UV_THREADPOOL_SIZE says otherwise): scrypt hashes, sqlite3 queries, fs and dns
//   all share the pool, and two long hashes must not leave the database one thread;
// - for `serve`, created by a worker thread running THREAD_POOL_NICE (default 1) nice levels below the
//   server, so the pool's threads inherit that priority: when logins saturate the CPU with scrypt, the
//   event loop (bearer /token requests) gets somewhat more of it than each hashing thread (the README's
//   THREAD_POOL_NICE row has the login flood's split at several values). Other commands (import: hashing
//   is the job) keep the normal priority.
// Where priorities cannot be changed, the pool is simply created at the server's priority.
process.env.UV_THREADPOOL_SIZE ??= '8';

// V8 moves objects of an allocation site straight to the old generation ("pretenures" them) once most
// of them outlived a young collection. Start-up (migrations, the first requests waiting on the
// database together) convinces it that per-request objects live long; from then on every request's
// garbage, with the token buffers it references, waits for full collections: twice the RSS, many
// mark-compact pauses (see README, "Performance"). The server's request objects are short-lived.
// Set before any server code is compiled, so no allocation site was decided yet; a pretenuring flag
// on node's command line (`node --allocation-site-pretenuring bin/chat-app-server.cjs`) wins.
if (!process.execArgv.some((flag) => /allocation[-_]site[-_]pretenuring/.test(flag))) {
  require('node:v8').setFlagsFromString('--no-allocation-site-pretenuring');
}

const { Worker } = require('node:worker_threads');

// The server's configuration check validates THREAD_POOL_NICE (and refuses to start on a bad value);
// until it runs, anything but a whole number from 0 to 19 means the default, which it repeats.
const DEFAULT_THREAD_POOL_NICE = 1;
function threadPoolNice() {
  const raw = (process.env.THREAD_POOL_NICE ?? '').trim();
  return /^\d{1,2}$/.test(raw) && Number(raw) <= 19 ? Number(raw) : DEFAULT_THREAD_POOL_NICE;
}

const command = process.argv[2];
if (command === undefined || command === 'serve') startAtLowerPoolPriority();
else startCli();

function startCli() {
  import('../dist/standalone/cli.js').catch((err) => {
    // Only the entry itself missing means "not built"; a missing adapter is an install to complete.
    const missing = /Cannot find package '(@chat-app-server\/adapter-(?:knex|agora))'/.exec(String(err && err.message));
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && /Cannot find module '[^']*dist[\\/]standalone[\\/]cli\.js'/.test(String(err.message))) {
      console.error('chat-app-server is not built: run `npx pnpm@12.4.2 build` in the repository first (the bin runs dist/).');
    } else if (err && err.code === 'ERR_MODULE_NOT_FOUND' && missing) {
      console.error(
        `chat-app-server: the standalone server needs ${missing[1]}, which is not installed.\n` +
          'Install the adapters next to @chat-app-server/adapter-koa: ' +
          'npm install @chat-app-server/adapter-knex @chat-app-server/adapter-agora',
      );
    } else {
      console.error('chat-app-server failed to start:', err);
    }
    process.exit(1);
  });
}

function startAtLowerPoolPriority() {
  const starter = new Worker(
    `const { getPriority, setPriority } = require('node:os');
     const { stat } = require('node:fs');
     const { parentPort } = require('node:worker_threads');
     try { setPriority(Math.min(19, getPriority() + ${threadPoolNice()})); } catch { /* not permitted here: keep the server's priority */ }
     stat(__filename, () => parentPort.postMessage('pool started'));`,
    { eval: true },
  );
  starter.once('message', () => {
    void starter.terminate();
    startCli();
  });
  starter.once('error', (err) => {
    console.error('chat-app-server failed to start its thread pool:', err);
    process.exit(1);
  });
}
