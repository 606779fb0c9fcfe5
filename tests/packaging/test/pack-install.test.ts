import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const PACKAGES = ['core', 'adapter-knex', 'adapter-agora', 'adapter-koa'] as const;
type PackageDir = (typeof PACKAGES)[number];

interface Manifest {
  name: string;
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  files?: string[];
  license?: string;
}

// pnpm turns `workspace:` ranges into versions when it packs; under `pnpm test` it is the running one.
const pnpm = process.env.npm_execpath?.includes('pnpm')
  ? { file: process.env.npm_execpath, args: [] as string[] }
  : { file: 'npx', args: ['--yes', 'pnpm@12.4.2'] };

async function manifestOf(dir: PackageDir): Promise<Manifest> {
  return JSON.parse(await readFile(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as Manifest;
}

/** `npm install` in a fresh project: the tarballs from disk, everything else from the npm registry. */
async function installProject(dir: string, dependencies: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }, null, 2));
  // --ignore-scripts: sqlite3's install step fetches a prebuilt binary from GitHub or compiles one; no
  // entry point loads the driver on import (knex loads it when a database is opened), and the driver
  // itself is exercised by the workspace's own tests.
  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, maxBuffer: 1 << 24 });
}

/** Imports `specifier` in a child process, as an ES module importer or with CommonJS `require`. */
async function load(cwd: string, specifier: string, kind: 'esm' | 'cjs'): Promise<string[]> {
  const code =
    kind === 'esm'
      ? `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`
      : `const m = require(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`;
  const args = kind === 'esm' ? ['--input-type=module', '-e', code] : ['--input-type=commonjs', '--no-warnings', '-e', code];
  const { stdout } = await run(process.execPath, args, { cwd });
  return JSON.parse(stdout) as string[];
}

function entryPoints(manifest: Manifest): string[] {
  return Object.keys(manifest.exports).map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`));
}

describe('packing and installing the packages', function () {
  let work: string;
  const tarballs = new Map<PackageDir, string>();
  const manifests = new Map<PackageDir, Manifest>();

  before(async function () {
    work = await mkdtemp(join(tmpdir(), 'chat-app-server-pack-'));
    for (const dir of PACKAGES) {
      manifests.set(dir, await manifestOf(dir));
      const before = new Set(await readdir(work));
      // prepack builds the package: a pack never ships a tarball without code.
      await run(pnpm.file, [...pnpm.args, 'pack', '--pack-destination', work], { cwd: join(ROOT, 'packages', dir), maxBuffer: 1 << 24 });
      const made = (await readdir(work)).filter((f) => f.endsWith('.tgz') && !before.has(f));
      expect(made, `${dir}: one tarball`).to.have.length(1);
      tarballs.set(dir, join(work, made[0]!));
    }
  });

  after(async function () {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships code, types, source maps with their sources, a README and a LICENSE, and no sources or tests', async function () {
    for (const dir of PACKAGES) {
      const unpacked = join(work, 'unpacked', dir);
      await mkdir(unpacked, { recursive: true });
      await run('tar', ['-xzf', tarballs.get(dir)!, '-C', unpacked]);
      const root = join(unpacked, 'package');
      const files = (await readdir(root, { recursive: true })).map(String);
      expect(files, dir).to.include.members(['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts']);
      expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/')), dir).to.deep.equal([]);

      const maps = files.filter((f) => f.endsWith('.js.map'));
      for (const map of maps) {
        const { sources, sourcesContent } = JSON.parse(await readFile(join(root, map), 'utf8')) as { sources: string[]; sourcesContent?: unknown[] };
        expect(sourcesContent, `${dir}/${map} carries its sources`).to.be.an('array').with.length(sources.length);
      }

      const packed = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Manifest;
      expect(JSON.stringify(packed), `${dir}: no workspace: ranges`).to.not.include('workspace:');
      expect(packed.license).to.equal('MIT');
      expect(await readFile(join(root, 'LICENSE'), 'utf8')).to.match(/^MIT License/);
    }
  });

  describe('everything installed', function () {
    let project: string;
    before(async function () {
      project = join(work, 'full');
      await installProject(project, {
        ...Object.fromEntries(PACKAGES.map((dir) => [manifests.get(dir)!.name, `file:${tarballs.get(dir)!}`])),
        // core's optional peers, for its contract kits (`@chat-app-server/core/testing`).
        chai: '^6.3.0',
        mocha: '^12.0.3',
      });
    });

    for (const dir of PACKAGES) {
      it(`imports every entry point of ${dir}, as an ES module and with require`, async function () {
        for (const specifier of entryPoints(manifests.get(dir)!)) {
          const esm = await load(project, specifier, 'esm');
          expect(esm, specifier).to.not.be.empty;
          expect(await load(project, specifier, 'cjs'), specifier).to.deep.equal(esm);
        }
      });
    }

    it('runs the standalone server\'s command line from the installed bin', async function () {
      const { stdout } = await run(process.execPath, [join(project, 'node_modules/@chat-app-server/adapter-koa/bin/chat-app-server.cjs'), 'help'], {
        cwd: project,
      });
      expect(stdout).to.match(/serve/).and.match(/migrate/);
    });
  });

  describe('a router-only install (core + adapter-koa)', function () {
    let project: string;
    before(async function () {
      project = join(work, 'router-only');
      await installProject(project, {
        '@chat-app-server/core': `file:${tarballs.get('core')!}`,
        '@chat-app-server/adapter-koa': `file:${tarballs.get('adapter-koa')!}`,
      });
    });

    it('installs no database driver, knex, got or the standalone server\'s adapters', function () {
      for (const name of ['sqlite3', 'pg', 'knex', 'got', 'agora-token', '@chat-app-server/adapter-knex', '@chat-app-server/adapter-agora']) {
        expect(existsSync(join(project, 'node_modules', name)), name).to.equal(false);
      }
    });

    it('imports the router entry point and core\'s HTTP mapping, as an ES module and with require', async function () {
      for (const specifier of ['@chat-app-server/adapter-koa', '@chat-app-server/core', '@chat-app-server/core/http']) {
        const esm = await load(project, specifier, 'esm');
        expect(esm, specifier).to.not.be.empty;
        expect(await load(project, specifier, 'cjs'), specifier).to.deep.equal(esm);
      }
      expect(await load(project, '@chat-app-server/adapter-koa', 'esm')).to.include.members(['createRouter', 'createApp']);
    });

    it('has the bin name the adapters the standalone server needs', async function () {
      const bin = join(project, 'node_modules/@chat-app-server/adapter-koa/bin/chat-app-server.cjs');
      const failure = await run(process.execPath, [bin, 'serve'], { cwd: project }).then(
        () => undefined,
        (err: { code?: number; stderr?: string }) => err,
      );
      expect(failure?.code).to.equal(1);
      expect(failure?.stderr).to.match(/needs @chat-app-server\/adapter-(knex|agora), which is not installed/);
    });
  });
});
