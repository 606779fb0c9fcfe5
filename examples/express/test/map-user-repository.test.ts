import type { UserRecord } from '@chat-app-server/core';
import { userRepositoryContract } from '@chat-app-server/core/testing';
import { MapUserRepository } from '../src/map-user-repository.js';

// An embedder's own adapter, checked by the same contract kit as the Knex repository.
// The kit reads the stored rows through `readRow`, not through the repository.
userRepositoryContract('MapUserRepository', async () => {
  const rows = new Map<string, UserRecord>();
  return { repo: new MapUserRepository(rows), readRow: async (accountKey) => rows.get(accountKey) };
});
