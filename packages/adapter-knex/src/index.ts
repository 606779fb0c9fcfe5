export { KnexUserRepository, type KnexUserRepositoryOptions } from './knex-user-repository.js';
export { KnexLoginThrottle, type KnexLoginThrottleOptions } from './knex-login-throttle.js';
export { KnexChannelMemberStore } from './knex-channel-member-store.js';
export { createDatabase, ACCEPTED_DATABASE_URLS, type CreateDatabaseOptions } from './create-database.js';
export { migrateLatest, migrateRollback, MIGRATIONS_TABLE } from './migrate.js';
export { ChatAppServerMigrationSource } from './migrations/migration-source.js';
export { usersUniqueViolation, USERS_UNIQUE_CONSTRAINTS, type UsersUniqueColumn } from './db-errors.js';
export { MAX_INDEXED_TEXT_LENGTH } from './storable-text.js';
