import { config as loadDotenv } from 'dotenv';
import { startExample } from './server.js';

// Like the standalone server: a .env file in the working directory, variables already set win.
loadDotenv({ quiet: true });

try {
  const server = await startExample();
  console.log(`example-express listening on ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
