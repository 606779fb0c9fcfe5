export { KnexUserRepository, type KnexUserRepositoryOptions } from './knex-user-repository.js';
export { KnexLoginThrottle, type KnexLoginThrottleOptions } from './knex-login-throttle.js';
export { KnexChannelMemberStore } from './knex-channel-member-store.js';
export { createDatabase, insecureDatabaseFileWarning, type CreateDatabaseOptions } from './create-database.js';
export { migrateLatest, migrateRollback } from './migrate.js';
