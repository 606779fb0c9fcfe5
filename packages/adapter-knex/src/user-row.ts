import { USER_STATUSES, type UserRecord, type UserStatus } from '@chat-app-server/core';

/** A `users` row as the drivers return it (node-postgres returns bigint columns as strings). */
export interface UserRow {
  account: string;
  account_key: string;
  password_hash: string | null;
  chat_username: string;
  chat_uuid: string | null;
  agora_uid: number | string;
  status: string;
  lease_id: string | null;
  lease_expires_at: number | string | null;
  creation_attempted_at: number | string | null;
  created_at: number | string;
  updated_at: number | string;
}

/** The columns the repository reads, in one list so every query returns the same shape. */
export const USER_COLUMNS = [
  'account',
  'account_key',
  'password_hash',
  'chat_username',
  'chat_uuid',
  'agora_uid',
  'status',
  'lease_id',
  'lease_expires_at',
  'creation_attempted_at',
  'created_at',
  'updated_at',
] as const;

/** Timestamps are stored as epoch milliseconds: exact on both drivers and free of time-zone settings. */
export function toEpochMs(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new TypeError('Cannot store an invalid Date.');
  return ms;
}

function toDate(value: number | string): Date {
  return new Date(Number(value));
}

function toOptionalDate(value: number | string | null): Date | null {
  return value === null ? null : toDate(value);
}

// The migration's CHECK keeps other values out; this guards against a schema that a newer version changed.
function statusOf(value: string): UserStatus {
  if (!(USER_STATUSES as readonly string[]).includes(value)) throw new TypeError(`A users row has the unknown status "${value}".`);
  return value as UserStatus;
}

/** The one mapper from a row to the port's record. */
export function toUserRecord(row: UserRow): UserRecord {
  return {
    account: row.account,
    accountKey: row.account_key,
    passwordHash: row.password_hash,
    chatUsername: row.chat_username,
    chatUuid: row.chat_uuid,
    agoraUid: Number(row.agora_uid),
    status: statusOf(row.status),
    leaseId: row.lease_id,
    leaseExpiresAt: toOptionalDate(row.lease_expires_at),
    creationAttemptedAt: toOptionalDate(row.creation_attempted_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}
