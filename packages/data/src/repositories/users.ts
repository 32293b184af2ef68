import { newId, randomSecret } from '@gatehouse/core';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { DataErrors } from '../errors.ts';
import { hashPassword, verifyPassword } from '../passwords.ts';
import type { SharedSchema, UserStatus, UsersTable } from '../schema.ts';
import { pageBounds } from './common.ts';
import type { Page, PageRequest, RepositoryDeps } from './common.ts';

/** A user as the domain sees it: never carries the password hash. */
export interface User {
  id: string;
  tenantId: number;
  username: string;
  email: string | null;
  givenName: string | null;
  familyName: string | null;
  status: UserStatus;
  createdAt: number;
  updatedAt: number;
}

export interface NewUser {
  username: string;
  password: string;
  email?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  /** Default ACTIVE. */
  status?: UserStatus;
  /** Role names, which must exist in the tenant; assigned in the same transaction. */
  roles?: readonly string[];
}

export interface UserPatch {
  email?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  status?: UserStatus;
}

/**
 * Users of a tenant (shared database). Every method takes the tenant id first and never sees
 * another tenant's rows.
 *
 * @example
 * ```ts
 * const alice = await repos.users.create(SUPER_TENANT_ID, { username: 'alice', password, roles: [Roles.Subscriber] });
 * const signedIn = await repos.users.verifyCredentials(SUPER_TENANT_ID, 'alice', password); // User | null
 * ```
 */
export interface UserRepository {
  /** Hashes the password. Throws DATA_ERR_UNIQUE_VIOLATION (username taken), DATA_ERR_NOT_FOUND (unknown role). */
  create(tenantId: number, input: NewUser): Promise<User>;
  getById(tenantId: number, id: string): Promise<User | undefined>;
  findByUsername(tenantId: number, username: string): Promise<User | undefined>;
  /** Ordered by username; `filter.status` lists only users in that status (the PENDING sign-ups). */
  list(tenantId: number, page?: PageRequest, filter?: { status?: UserStatus }): Promise<Page<User>>;
  /** Throws DATA_ERR_NOT_FOUND. */
  update(tenantId: number, id: string, patch: UserPatch): Promise<User>;
  /** Moves a user from status `from` to `status`; false when the user is not (or no longer) in `from`, so one of concurrent callers wins. */
  setStatus(tenantId: number, id: string, status: UserStatus, from: UserStatus): Promise<boolean>;
  /** Throws DATA_ERR_NOT_FOUND. */
  setPassword(tenantId: number, id: string, password: string): Promise<void>;
  /** Replaces the user's roles, in one transaction. Throws DATA_ERR_NOT_FOUND (user or role). */
  setRoles(tenantId: number, id: string, roles: readonly string[]): Promise<void>;
  /** Role names, sorted. */
  rolesOf(tenantId: number, id: string): Promise<string[]>;
  /** Whether any user of the tenant holds the role. */
  existsWithRole(tenantId: number, role: string): Promise<boolean>;
  /**
   * The user when the password matches and the account is ACTIVE, else null. Unknown usernames
   * cost one KDF run too (against a dummy hash), so timing does not reveal which users exist.
   * `allowInactive` also returns LOCKED and PENDING users, for callers that explain the refusal.
   */
  verifyCredentials(tenantId: number, username: string, password: string, options?: { allowInactive?: boolean }): Promise<User | null>;
  /** Throws DATA_ERR_NOT_FOUND. Role assignments go with the user (ON DELETE CASCADE). */
  delete(tenantId: number, id: string): Promise<void>;
}

type UserRow = Omit<Selectable<UsersTable>, 'password_hash'>;

const userColumns = ['id', 'tenant_id', 'username', 'email', 'given_name', 'family_name', 'status', 'created_at', 'updated_at'] as const;

function toUser(row: UserRow): User {
  return {
    id: row.id,
    tenantId: Number(row.tenant_id),
    username: row.username,
    email: row.email,
    givenName: row.given_name,
    familyName: row.family_name,
    status: row.status,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function notFound(tenantId: number, id: string) {
  return DataErrors.create('DATA_ERR_NOT_FOUND', { message: 'The user was not found', description: `user ${id} in tenant ${tenantId}` });
}

async function assignRoles(trx: Transaction<SharedSchema>, tenantId: number, userId: string, names: readonly string[]): Promise<void> {
  await trx.deleteFrom('user_roles').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
  const unique = [...new Set(names)];
  if (unique.length === 0) return;
  const roles = await trx.selectFrom('roles').select(['id', 'name']).where('tenant_id', '=', tenantId).where('name', 'in', unique).execute();
  if (roles.length !== unique.length) {
    const missing = unique.filter((n) => !roles.some((r) => r.name === n));
    throw DataErrors.create('DATA_ERR_NOT_FOUND', { message: 'A role was not found', description: `roles ${missing.join(', ')}` });
  }
  await trx
    .insertInto('user_roles')
    .values(roles.map((r) => ({ tenant_id: tenantId, user_id: userId, role_id: r.id })))
    .execute();
}

export function createUserRepository(db: Kysely<SharedSchema>, deps: RepositoryDeps): UserRepository {
  let dummyHash: Promise<string> | undefined;
  const getDummyHash = () => (dummyHash ??= hashPassword(randomSecret(), deps.passwordParams));

  const getById = async (tenantId: number, id: string) => {
    const row = await db.selectFrom('users').select(userColumns).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  };

  const exists = async (trx: Kysely<SharedSchema>, tenantId: number, id: string) =>
    (await trx.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) !== undefined;

  return {
    async create(tenantId, input) {
      // Hash before the transaction: on SQLite a transaction holds the only connection.
      const passwordHash = await hashPassword(input.password, deps.passwordParams);
      const now = deps.clock.now();
      const row: UsersTable = {
        id: newId(),
        tenant_id: tenantId,
        username: input.username,
        password_hash: passwordHash,
        email: input.email ?? null,
        given_name: input.givenName ?? null,
        family_name: input.familyName ?? null,
        status: input.status ?? 'ACTIVE',
        created_at: now,
        updated_at: now,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(row).execute();
        if (input.roles && input.roles.length > 0) await assignRoles(trx, tenantId, row.id, input.roles);
      });
      return toUser(row);
    },

    getById,

    async findByUsername(tenantId, username) {
      const row = await db
        .selectFrom('users')
        .select(userColumns)
        .where('tenant_id', '=', tenantId)
        .where('username', '=', username)
        .executeTakeFirst();
      return row && toUser(row);
    },

    async list(tenantId, page, filter = {}) {
      const { limit, offset } = pageBounds(page);
      let q = db.selectFrom('users').where('tenant_id', '=', tenantId);
      if (filter.status !== undefined) q = q.where('status', '=', filter.status);
      const [rows, count] = await Promise.all([
        q.select(userColumns).orderBy('username').limit(limit).offset(offset).execute(),
        q.select((eb) => eb.fn.countAll().as('total')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map(toUser), total: Number(count.total), limit, offset };
    },

    async update(tenantId, id, patch) {
      const set: Partial<UsersTable> = { updated_at: deps.clock.now() };
      if (patch.email !== undefined) set.email = patch.email;
      if (patch.givenName !== undefined) set.given_name = patch.givenName;
      if (patch.familyName !== undefined) set.family_name = patch.familyName;
      if (patch.status !== undefined) set.status = patch.status;
      const result = await db.updateTable('users').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound(tenantId, id);
      const user = await getById(tenantId, id);
      if (!user) throw notFound(tenantId, id);
      return user;
    },

    async setStatus(tenantId, id, status, from) {
      const result = await db
        .updateTable('users')
        .set({ status, updated_at: deps.clock.now() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async setPassword(tenantId, id, password) {
      const passwordHash = await hashPassword(password, deps.passwordParams);
      const result = await db
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: deps.clock.now() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound(tenantId, id);
    },

    async setRoles(tenantId, id, roles) {
      await db.transaction().execute(async (trx) => {
        if (!(await exists(trx, tenantId, id))) throw notFound(tenantId, id);
        await assignRoles(trx, tenantId, id, roles);
      });
    },

    async rolesOf(tenantId, id) {
      const rows = await db
        .selectFrom('user_roles')
        .innerJoin('roles', 'roles.id', 'user_roles.role_id')
        .select('roles.name')
        .where('user_roles.tenant_id', '=', tenantId)
        .where('roles.tenant_id', '=', tenantId)
        .where('user_roles.user_id', '=', id)
        .orderBy('roles.name')
        .execute();
      return rows.map((r) => r.name);
    },

    async existsWithRole(tenantId, role) {
      const row = await db
        .selectFrom('user_roles')
        .innerJoin('roles', 'roles.id', 'user_roles.role_id')
        .select('user_roles.user_id')
        .where('user_roles.tenant_id', '=', tenantId)
        .where('roles.tenant_id', '=', tenantId)
        .where('roles.name', '=', role)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    async verifyCredentials(tenantId, username, password, options = {}) {
      const row = await db
        .selectFrom('users')
        .select([...userColumns, 'password_hash'])
        .where('tenant_id', '=', tenantId)
        .where('username', '=', username)
        .executeTakeFirst();
      if (!row) {
        await verifyPassword(password, await getDummyHash());
        return null;
      }
      const ok = await verifyPassword(password, row.password_hash);
      if (!ok) return null;
      if (row.status !== 'ACTIVE' && !options.allowInactive) return null;
      return toUser(row);
    },

    async delete(tenantId, id) {
      const result = await db.deleteFrom('users').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound(tenantId, id);
    },
  };
}
