import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Generated, type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { HttpProblem, problems } from './problem.ts';
import { authenticateStaff, looksLikeStaffToken } from './staff-token.ts';

export type Scope = 'admin' | 'read';

export interface ApiKeyTables {
  api_key: {
    id: Generated<number>;
    name: string;
    key_hash: string;
    scopes: string[];
    created_at: Generated<Date>;
    revoked_at: Date | null;
  };
}

/** Frozen: a change is a new migration. */
export const apiKeyMigrations: Record<string, Migration> = {
  '0000_01_api_keys': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('api_key')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('scopes', sql`text[]`, (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('revoked_at', 'timestamptz')
        .execute();
    },
  },
};

/** Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): string {
  return `cdk_${randomBytes(32).toString('base64url')}`;
}

/** Makes sure the configured key exists with the admin scope; the key itself is never stored. */
export async function ensureApiKey(db: Kysely<ApiKeyTables>, key: string, name: string, scopes: Scope[]) {
  await db
    .insertInto('api_key')
    .values({ name, key_hash: hashApiKey(key), scopes, revoked_at: null })
    .onConflict((oc) => oc.column('key_hash').doUpdateSet({ scopes, revoked_at: null }))
    .execute();
}

/** A preHandler that answers 401 without a valid key and 403 without the scope. */
export function requireScope(db: Kysely<ApiKeyTables>, scope: Scope) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw problems.unauthorized();
    if (looksLikeStaffToken(match[1]!)) {
      await authenticateStaff(request, match[1]!, scope);
      return;
    }
    const row = await db
      .selectFrom('api_key')
      .select(['scopes', 'name'])
      .where('key_hash', '=', hashApiKey(match[1]!))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row)
      throw new HttpProblem(401, 'unauthorized', 'Authentication required', 'the API key is not valid');
    if (!row.scopes.includes(scope) && !row.scopes.includes('admin')) throw problems.forbidden(scope);
    request.actor = `api-key:${row.name}`;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made an authenticated call; recorded with the changes it makes. */
    actor?: string;
  }
}
