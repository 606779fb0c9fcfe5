// The SQLite and PostgreSQL test databases every package's tests use: one harness, one PostgreSQL probe.
export {
  PG_TEST_URL, DIALECTS, dialectNamed, requireDialect, describeEachDialect, useMigratedDatabase, useMigratedTestDatabase,
  type Dialect, type DialectName, type TestDatabase,
} from './dialects.js';
export { startThrowawayPostgres, requireThrowawayPostgres, postgresBinDir, type ThrowawayPostgres } from './throwaway-postgres.js';
