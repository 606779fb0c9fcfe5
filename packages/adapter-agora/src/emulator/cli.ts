#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parseAppKey } from '../app-key.js';
import { startAgoraEmulator } from './agora-emulator.js';

const HELP = `agora-chat-emulator: a local Agora Chat REST emulator (user endpoints) with fault injection.

Options (environment variable in brackets):
  --port <n>            listen port, 0 = any free port [AGORA_EMULATOR_PORT]           default 8089
  --host <addr>         listen address [AGORA_EMULATOR_HOST]                            default 127.0.0.1
  --app-id <hex32>      App ID app tokens must carry [AGORA_APP_ID]                     default: random
  --app-cert <hex32>    App Certificate app tokens are signed with [AGORA_APP_CERT]     default: random
  --app-key <org#app>   App Key [AGORA_APP_KEY]                                         default emulator#chat
  --rate-limit <n>      requests per second before 429 reach_limit [AGORA_EMULATOR_RATE_LIMIT]
  --help

Control API: GET/POST /_emulator/users, POST/GET/DELETE /_emulator/faults, GET /_emulator/stats,
POST /_emulator/reset, POST /_emulator/app-token.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'app-id': { type: 'string' },
      'app-cert': { type: 'string' },
      'app-key': { type: 'string' },
      'rate-limit': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const env = process.env;
  // Random credentials by default: the emulator must never suggest reusing real ones.
  const appId = values['app-id'] ?? env['AGORA_APP_ID'] ?? randomBytes(16).toString('hex');
  const givenCertificate = values['app-cert'] ?? env['AGORA_APP_CERT'];
  const appCertificate = givenCertificate ?? randomBytes(16).toString('hex');
  const { orgName, appName } = parseAppKey(values['app-key'] ?? env['AGORA_APP_KEY'] ?? 'emulator#chat');
  const port = Number(values.port ?? env['AGORA_EMULATOR_PORT'] ?? 8089);
  const rateLimit = values['rate-limit'] ?? env['AGORA_EMULATOR_RATE_LIMIT'];
  const emulator = await startAgoraEmulator({
    port,
    host: values.host ?? env['AGORA_EMULATOR_HOST'] ?? '127.0.0.1',
    appId,
    appCertificate,
    orgName,
    appName,
    ...(rateLimit === undefined ? {} : { rateLimitPerSecond: Number(rateLimit) }),
  });
  console.log(`Agora Chat emulator listening on ${emulator.url}`);
  console.log(`AGORA_REST_API_URL=${emulator.restApiUrl}`);
  console.log(`AGORA_APP_KEY=${emulator.appKey}`);
  console.log(`AGORA_APP_ID=${appId}`);
  // A certificate that was handed in may be a real one: it is never printed (logs are kept and shared).
  console.log(
    givenCertificate === undefined
      ? `AGORA_APP_CERT=${appCertificate}  (random emulator credential, not a real one)`
      : 'AGORA_APP_CERT: the one you set (not shown)',
  );
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
