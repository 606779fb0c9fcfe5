// Raw scrypt throughput with the server's parameters and hashing concurrency: the ceiling for login
// and register, measured without HTTP, database or Agora.
import { OWASP_SCRYPT_PARAMETERS, ScryptPasswordHasher } from '@chat-app-server/core';

const seconds = Number(process.argv[2] ?? 8);
const concurrency = Number(process.argv[3] ?? 2);
const hasher = new ScryptPasswordHasher({ parameters: OWASP_SCRYPT_PARAMETERS, concurrency, maxQueue: concurrency });
const hash = await hasher.hash('benchmark-password');
const end = Date.now() + seconds * 1000;
let done = 0;
const started = Date.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (Date.now() < end) {
    await hasher.verify(hash, 'benchmark-password');
    done++;
  }
}));
process.send?.({ perSecond: done / ((Date.now() - started) / 1000), parameters: OWASP_SCRYPT_PARAMETERS, concurrency });
