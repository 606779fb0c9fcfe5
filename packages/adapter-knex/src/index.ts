export { KnexUserRepository, type KnexUserRepositoryOptions } from './knex-user-repository.js';
export { KnexLoginThrottle, type KnexLoginThrottleOptions } from './knex-login-throttle.js';
export { KnexChannelMemberStore } from './knex-channel-member-store.js';
export {
  createDatabase, insecureDatabaseFileWarning, DEFAULT_ACQUIRE_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS, type CreateDatabaseOptions, type DatabaseLog,
} from './create-database.js';
export { isDatabaseOutage, toDatabaseError } from './db-errors.js';
export { migrateLatest, migrateRollback } from './migrate.js';
