import { createHash, createHmac, randomBytes } from 'node:crypto';
import { type Generated, type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Logger } from 'pino';

export const scopes = ['admin', 'read'] as const;
export type Scope = (typeof scopes)[number];

export interface ApiKeyTables {
  api_key: {
    id: Generated<number>;
    name: string;
    key_hash: string;
    scopes: string[];
    created_at: Generated<Date>;
    revoked_at: Date | null;
    /** `config`: from a variable such as ADMIN_API_KEY, revoked once no longer configured; `issued`: by the API. */
    source: Generated<string>;
    /** The actor that issued it (`api-key:<name>`), or `config`. */
    created_by: string | null;
    /** Of the last successful call, to the minute: enough to find unused keys, without a write per request. */
    last_used_at: Date | null;
    hash_scheme: Generated<string>;
    /** The actor that revoked it (`staff:<name> <email>`, `api-key:<name>`), or `config`. */
    revoked_by: Generated<string | null>;
  };
  api_key_pepper: {
    id: Generated<boolean>;
    pepper: string;
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
  // Rows of 0000_01 hold a bare SHA-256 of the key: they are marked `sha256` and rehashed with the pepper at
  // the next start (the pepper is configuration, which a migration cannot know). Until then they are not
  // accepted, so no key is ever checked against an unkeyed hash. Rows written by the variables of the time
  // are the configured keys; any other was made by hand and counts as issued.
  '0000_01_api_keys_02_managed': {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('api_key')
        .addColumn('source', 'text', (c) => c.notNull().defaultTo('issued'))
        .addColumn('created_by', 'text')
        .addColumn('last_used_at', 'timestamptz')
        .addColumn('hash_scheme', 'text', (c) => c.notNull().defaultTo('sha256'))
        .execute();
      await db
        .updateTable('api_key')
        .set({ source: 'config', created_by: 'config' })
        .where('name', 'in', ['ADMIN_API_KEY', 'READ_API_KEY'])
        .execute();
      await db.schema
        .alterTable('api_key')
        .alterColumn('hash_scheme', (c) => c.setDefault('hmac-sha256'))
        .execute();
      await db.schema
        .alterTable('api_key')
        .addCheckConstraint('api_key_source', sql`source in ('config', 'issued')`)
        .execute();
      await db.schema
        .createTable('api_key_pepper')
        .addColumn('id', 'boolean', (c) => c.primaryKey().defaultTo(true).check(sql`id`))
        .addColumn('pepper', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // Who revoked a key, as who issued it is recorded: a person through the console, or another key.
  '0000_01_api_keys_03_revoked_by': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('api_key').addColumn('revoked_by', 'text').execute();
    },
  },
};

const KEYED = 'hmac-sha256';

/**
 * What is stored for a key: HMAC-SHA-256 under the server's pepper, so a copy of the table alone (a backup,
 * a read replica, an injection) does not let anyone test guesses, nor tell which key a leaked one is. The
 * HMAC is taken over the key's SHA-256, which is what rows of 0000_01 hold: they are rehashed in place.
 */
export function hashApiKey(pepper: string, key: string): string {
  return keyedHash(pepper, createHash('sha256').update(key).digest('hex'));
}

function keyedHash(pepper: string, sha256Hex: string): string {
  return createHmac('sha256', pepper).update(sha256Hex).digest('hex');
}

/** 256 random bits: nothing to brute-force, so one fast keyed hash is enough. */
export function generateApiKey(): string {
  return `cdk_${randomBytes(32).toString('base64url')}`;
}

/** The shape generateApiKey makes: `cdk_` and 256 bits in base64url. A supplied key must have it. */
export const API_KEY_PATTERN = /^cdk_[A-Za-z0-9_-]{43}$/;

/** A key the environment names, e.g. ADMIN_API_KEY. */
export interface ConfiguredApiKey {
  name: string;
  key: string;
  scopes: Scope[];
}

export interface ApiKeyRecord {
  id: number;
  name: string;
  scopes: string[];
  source: 'config' | 'issued';
  createdAt: Date;
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
}

const LAST_USED_RESOLUTION_MS = 60_000;

/** The keys of one service's schema, hashed with one pepper. */
export class ApiKeyStore {
  readonly #db: Kysely<ApiKeyTables>;
  readonly #pepper: string;

  private constructor(db: Kysely<ApiKeyTables>, pepper: string) {
    this.#db = db;
    this.#pepper = pepper;
  }

  /**
   * Takes the pepper from API_KEY_PEPPER, or, when that is unset (`npm start`, tests), one generated once
   * and kept in the schema: still a keyed hash, but one that sits beside the hashes; production sets it.
   * Then upgrades rows from before keyed hashing and makes the configured keys the only configured ones.
   */
  static async open(
    db: Kysely<ApiKeyTables>,
    options: { pepper: string | undefined; configured: readonly ConfiguredApiKey[]; logger: Logger },
  ): Promise<ApiKeyStore> {
    let pepper = options.pepper;
    if (!pepper) {
      options.logger.warn(
        'API_KEY_PEPPER is not set: API keys are hashed with a pepper kept in the database',
      );
      await db
        .insertInto('api_key_pepper')
        .values({ pepper: randomBytes(32).toString('base64url') })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      pepper = (await db.selectFrom('api_key_pepper').select('pepper').executeTakeFirstOrThrow()).pepper;
    }
    const store = new ApiKeyStore(db, pepper);
    await store.#upgradeUnkeyedHashes();
    await store.#syncConfigured(options.configured, options.logger);
    return store;
  }

  async #upgradeUnkeyedHashes(): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('api_key')
        .select(['id', 'key_hash'])
        .where('hash_scheme', '=', 'sha256')
        .forUpdate()
        .execute();
      for (const row of rows) {
        await trx
          .updateTable('api_key')
          .set({ key_hash: keyedHash(this.#pepper, row.key_hash), hash_scheme: KEYED })
          .where('id', '=', row.id)
          .execute();
      }
    });
  }

  /**
   * The configured keys exist with their scopes; a configured key that was revoked stays revoked (it does not
   * come back with a restart); a key configured before but not now (rotated, or the variable removed) is
   * revoked. One statement each, in one transaction, so replicas starting together agree.
   */
  async #syncConfigured(configured: readonly ConfiguredApiKey[], logger: Logger): Promise<void> {
    const hashes = configured.map((c) => hashApiKey(this.#pepper, c.key));
    await this.#db.transaction().execute(async (trx) => {
      for (const [i, { name, scopes }] of configured.entries()) {
        const row = await trx
          .insertInto('api_key')
          .values({
            name,
            key_hash: hashes[i]!,
            scopes,
            source: 'config',
            created_by: 'config',
            revoked_at: null,
            hash_scheme: KEYED,
          })
          .onConflict((oc) =>
            oc.column('key_hash').doUpdateSet({ name, scopes, source: 'config', hash_scheme: KEYED }),
          )
          .returning(['revoked_at'])
          .executeTakeFirstOrThrow();
        if (row.revoked_at)
          logger.warn({ key: name }, `${name} was revoked and stays revoked: configure a new key`);
      }
      const revoked = await trx
        .updateTable('api_key')
        .set({ revoked_at: sql`now()`, revoked_by: 'config' })
        .where('source', '=', 'config')
        .where('revoked_at', 'is', null)
        .$if(hashes.length > 0, (q) => q.where('key_hash', 'not in', hashes))
        .returning(['name'])
        .execute();
      for (const { name } of revoked) logger.info({ key: name }, `${name} is no longer configured: revoked`);
    });
  }

  /** The key behind an Authorization header value, if it is valid and not revoked. */
  async verify(key: string): Promise<{ id: number; name: string; scopes: string[] } | null> {
    const row = await this.#db
      .selectFrom('api_key')
      .select(['id', 'name', 'scopes'])
      .where('key_hash', '=', hashApiKey(this.#pepper, key))
      .where('hash_scheme', '=', KEYED)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? { id: Number(row.id), name: row.name, scopes: row.scopes } : null;
  }

  readonly #recorded = new Map<number, number>();

  /**
   * Notes a successful use, to the minute: at most one write per key and minute on this replica, and none
   * when another replica already noted this minute.
   */
  async recordUse(id: number): Promise<void> {
    const now = Date.now();
    if (now - (this.#recorded.get(id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.#recorded.set(id, now);
    await this.#db
      .updateTable('api_key')
      .set({ last_used_at: sql`now()` })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb('last_used_at', 'is', null),
          eb(
            'last_used_at',
            '<',
            sql<Date>`now() - make_interval(secs => ${LAST_USED_RESOLUTION_MS / 1000})`,
          ),
        ]),
      )
      .execute();
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.#db.selectFrom('api_key').selectAll().orderBy('id').execute();
    return rows.map(toRecord);
  }

  /**
   * A new key for one consuming system; the key itself is returned here once and never stored. `key` is
   * given when one system's key is registered at several services (the console does that); null when a key
   * with that hash exists already.
   */
  async issue(input: {
    name: string;
    scopes: Scope[];
    createdBy: string;
    key?: string | undefined;
  }): Promise<{ key: string; record: ApiKeyRecord } | null> {
    const key = input.key ?? generateApiKey();
    if (!API_KEY_PATTERN.test(key)) throw new Error('not an API key of the generated shape');
    const row = await this.#db
      .insertInto('api_key')
      .values({
        name: input.name,
        key_hash: hashApiKey(this.#pepper, key),
        scopes: input.scopes,
        source: 'issued',
        created_by: input.createdBy,
        revoked_at: null,
        hash_scheme: KEYED,
      })
      .onConflict((oc) => oc.column('key_hash').doNothing())
      .returningAll()
      .executeTakeFirst();
    return row ? { key, record: toRecord(row) } : null;
  }

  /** Revokes a key at once (a second call changes nothing); null when there is no such key. */
  async revoke(id: number, revokedBy: string): Promise<ApiKeyRecord | null> {
    await this.#db
      .updateTable('api_key')
      .set({ revoked_at: sql`now()`, revoked_by: revokedBy })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    const row = await this.#db.selectFrom('api_key').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : null;
  }
}

function toRecord(row: {
  id: number | string;
  name: string;
  scopes: string[];
  source: string;
  created_at: Date;
  created_by: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}): ApiKeyRecord {
  return {
    id: Number(row.id),
    name: row.name,
    scopes: row.scopes,
    source: row.source === 'config' ? 'config' : 'issued',
    createdAt: row.created_at,
    createdBy: row.created_by,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made an authenticated call; recorded with the changes it makes. */
    actor?: string;
    /** The API key of an authenticated call (see recordApiKeyUse). */
    apiKeyId?: number;
  }
  interface FastifyInstance {
    /** The service's API keys; requireScope checks against them. */
    apiKeys: ApiKeyStore;
  }
}
