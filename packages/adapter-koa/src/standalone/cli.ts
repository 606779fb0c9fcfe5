#!/usr/bin/env node
import { ConfigError, readEnvironment } from './config.js';
import { EXIT, UsageError, type Command } from './commands/command.js';
import { importCommand } from './commands/import.js';
import { migrateCommand } from './commands/migrate.js';
import { serveCommand } from './commands/serve.js';

/** Every command group; a new one is a module plus a line here. */
const COMMANDS: readonly Command[] = [serveCommand, migrateCommand, importCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `Usage: chat-app-server [${COMMANDS.map((c) => c.name).join('|')}] [arguments]`,
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `chat-app-server help <command>` for a command\'s arguments.',
    'Configuration comes from the environment and a .env file in the working directory; see README.md.',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name = 'serve', ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = COMMANDS.find((c) => c.name === args[0]);
    console.log(topic ? topic.usage : overview());
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${overview()}`);
    return EXIT.usage;
  }
  const env = readEnvironment();
  try {
    // `pnpm cli` runs in the repository root; INIT_CWD is where the user typed the command.
    return await command.run(args, { env, cwd: env.INIT_CWD ?? process.cwd(), stdout: process.stdout, stderr: process.stderr });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${command.usage}`);
    return EXIT.usage;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error('chat-app-server failed:', err);
    process.exit(EXIT.failed);
  },
);
