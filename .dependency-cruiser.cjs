// Architecture rules, checked on the built JavaScript (dist/): what each package's runtime code loads.
// Run with `pnpm check:deps` (part of `pnpm test`). The README lists these rules.
/** A package of the workspace, from its source or its build. */
const ADAPTER = '^packages/adapter-[^/]+/dist/';
const NPM = ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-framework-free',
      comment: 'core loads node built-ins and scrypt-kdf only (its testing entry also chai); frameworks and drivers belong to adapters.',
      severity: 'error',
      from: { path: '^packages/core/dist/' },
      to: { dependencyTypes: NPM, pathNot: 'node_modules/(scrypt-kdf|chai|mocha)/' },
    },
    {
      name: 'core-runtime-without-test-libraries',
      comment: 'chai and mocha are optional peers, loaded only by the ./testing entry point.',
      severity: 'error',
      from: { path: '^packages/core/dist/', pathNot: '^packages/core/dist/testing/' },
      to: { path: 'node_modules/(chai|mocha)/' },
    },
    {
      name: 'core-imports-no-adapter',
      comment: 'Arrows point inward: adapters import core, never the reverse.',
      severity: 'error',
      from: { path: '^packages/core/' },
      to: { path: '^packages/(?!core/)' },
    },
    {
      name: 'adapters-meet-only-in-core',
      comment: 'An adapter talks to another only through core\'s ports; adapter-koa\'s standalone composition root is the one place that wires them together.',
      severity: 'error',
      from: { path: '^packages/(adapter-[^/]+)/dist/', pathNot: '^packages/adapter-koa/dist/standalone/' },
      to: { path: '^packages/adapter-', pathNot: '^packages/$1/' },
    },
    {
      name: 'koa-root-entry-loads-no-database-or-agora',
      comment: 'Embedders who mount the router must not load knex, got, sqlite3, pg or agora-token.',
      severity: 'error',
      from: { path: '^packages/adapter-koa/dist/index\\.js$' },
      to: {
        reachable: true,
        path: 'node_modules/(knex|got|sqlite3|pg|agora-token|inversify)/|^packages/adapter-(knex|agora)/',
      },
    },
    {
      name: 'emulator-only-in-development',
      comment: 'The Agora Chat emulator is loaded by dynamic import(), in development mode only, never by production code.',
      severity: 'error',
      from: { path: '^packages/', pathNot: '^packages/adapter-agora/dist/emulator/' },
      to: { path: '^packages/adapter-agora/dist/emulator/', dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'Every import resolves (a typo or a missing build fails here, not at run time).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-dependency',
      comment: 'Runtime code loads only packages its package.json lists.',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'], dependencyTypesNot: ['npm', 'npm-dev', 'npm-peer', 'npm-optional'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'], mainFields: ['module', 'main'] },
  },
};
