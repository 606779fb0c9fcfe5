import { userRepositoryContract } from '@chat-app-server/core/testing';
import { MapUserRepository } from '../src/map-user-repository.js';

// An embedder's own adapter, checked by the same contract kit as the Knex repository.
userRepositoryContract('MapUserRepository', async () => ({ repo: new MapUserRepository() }));
