#!/usr/bin/env node
'use strict';
// Launcher for the standalone server. CommonJS so that it runs before anything touches libuv's
// thread pool, which is created once, on first use, with the size and CPU priority it gets then:
// - 8 threads (unless UV_THREADPOOL_SIZE says otherwise): scrypt hashes, sqlite3 queries, fs and dns
//   all share the pool, and two long hashes must not leave the database one thread;
// - for `serve`, created by a worker thread running at a lower priority (nice 10), so the pool's
//   threads inherit it: when logins saturate the CPU with scrypt, the event loop (bearer /token
//   requests) still gets the CPU first (the bench's "GET /token while logins saturate" row measures
//   what this keeps). Other commands (import: hashing is the job) keep the normal priority.
// Where priorities cannot be changed, the pool is simply created at normal priority.
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
    `const { setPriority } = require('node:os');
     const { stat } = require('node:fs');
     const { parentPort } = require('node:worker_threads');
     try { setPriority(10); } catch { /* not permitted here: keep the default priority */ }
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
