// Fails the build when core (source or output) imports a framework or an adapter's library.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FORBIDDEN = ['koa', '@koa/', 'knex', 'got', 'inversify', 'reflect-metadata', 'agora-token', 'sqlite3', 'pg'];
const root = new URL('..', import.meta.url).pathname;
const specifier = /\b(?:from\s*|import\s*\(\s*|import\s+|require\s*\(\s*)['"]([^'"]+)['"]/g;
const bad = [];

for (const dir of ['src', 'dist']) {
  for (const file of walk(join(root, dir))) {
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(specifier)) {
      if (FORBIDDEN.some((name) => spec === name || spec.startsWith(name.endsWith('/') ? name : `${name}/`))) {
        bad.push(`${file.slice(root.length)} imports ${spec}`);
      }
    }
  }
}
if (bad.length) {
  console.error(`core must not import frameworks or adapter libraries:\n  ${bad.join('\n  ')}`);
  process.exit(1);
}

function* walk(dir) {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* walk(path);
    else if (/\.(ts|js|mjs|cjs)$/.test(e.name)) yield path;
  }
}
