// API keys across restarts: rotation and revocation hold, keys are managed through the admin API, stored
// under a keyed hash, and rows of the unkeyed era are upgraded in place.
import { createHash, createHmac } from 'node:crypto';
import { createDatabase, migrateSchema } from '@citydeals/db';
import { messagingMigrations } from '@citydeals/messaging';
import {
  createQuickTestDatabase,
  deleteNamespaceStreams,
  testServiceEnv,
  uniqueName,
} from '@citydeals/testkit';
import t from 'tap';
import {
  apiKeyMigrations,
  type BaseConfig,
  baseConfigSchema,
  createService,
  loadConfig,
  type ServiceTables,
  shutdown,
} from '../src/index.ts';

const PEPPER = 'pepper-of-the-test-0123456789abcdef';
const keyA = 'cdk_admin-key-A-0123456789abcdefghij';
const keyB = 'cdk_admin-key-B-0123456789abcdefghij';
const keyC = 'cdk_admin-key-C-0123456789abcdefghij';
const schema = 'keys_test';

const database = await createQuickTestDatabase();
const prefix = uniqueName('t');
t.teardown(async () => {
  const { connectNats } = await import('@citydeals/messaging');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connectNats({ url: testServiceEnv(database, prefix).NATS_URL!, name: 'cleanup' });
  await deleteNamespaceStreams(await jetstreamManager(nc), prefix);
  await nc.close();
  await database.drop();
});

/** Starts the service on the same schema with this admin key (or none), as a restart with new config. */
async function start(adminKey: string | undefined, extra: Record<string, string> = {}) {
  const { ADMIN_API_KEY: _, ...env } = testServiceEnv(database, prefix);
  const config = loadConfig(baseConfigSchema({ port: 0, schema }), {
    ...env,
    API_KEY_PEPPER: PEPPER,
    ...(adminKey ? { ADMIN_API_KEY: adminKey } : {}),
    ...extra,
  });
  return createService<ServiceTables, BaseConfig, null>(
    {
      service: 'registration',
      migrations: {},
      context: () => null,
      features: [],
      http: { title: 'keys', description: 'x' },
      app: async () => {},
    },
    config,
  );
}

type Service = Awaited<ReturnType<typeof start>>;
const call = (service: Service, key: string, method = 'GET', url = '/admin/api-keys', payload?: object) =>
  service.http.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${key}` },
    ...(payload ? { payload } : {}),
  });
const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

t.test(
  'keys are issued, listed and revoked per system; rotation and revocation survive restarts',
  async (t) => {
    let service = await start(keyA);
    t.teardown(() => shutdown(service).catch(() => {}));

    const listed = await call(service, keyA);
    t.equal(listed.statusCode, 200);
    t.match(listed.json().items, [
      { name: 'ADMIN_API_KEY', source: 'config', scopes: ['admin'], revokedAt: null },
    ]);

    const website = await call(service, keyA, 'POST', '/admin/api-keys', {
      name: 'website',
      scopes: ['read'],
    });
    t.equal(website.statusCode, 201);
    const issued = website.json();
    t.match(issued, {
      name: 'website',
      scopes: ['read'],
      source: 'issued',
      createdBy: 'api-key:ADMIN_API_KEY',
    });
    t.match(issued.key, /^cdk_[A-Za-z0-9_-]{43}$/, 'the key is shown once, in the answer');
    const ops = (
      await call(service, keyA, 'POST', '/admin/api-keys', { name: 'ops', scopes: ['admin'] })
    ).json();

    t.equal((await call(service, issued.key)).statusCode, 403, 'a read key is known but may not administer');
    t.equal((await call(service, ops.key)).statusCode, 200);
    const afterUse = (await call(service, keyA)).json().items as {
      name: string;
      lastUsedAt: string | null;
    }[];
    t.ok(afterUse.find((k) => k.name === 'ops')?.lastUsedAt, 'a successful use is recorded');
    t.equal(afterUse.find((k) => k.name === 'website')?.lastUsedAt, null, 'a refused one writes nothing');
    t.notOk(JSON.stringify(afterUse).includes(issued.key), 'the list never shows a key');

    const { rows } = await service.runtime.pool.query(
      `select key_hash from ${schema}.api_key where id = $1`,
      [issued.id],
    );
    const keyed = createHmac('sha256', PEPPER).update(sha256(issued.key)).digest('hex');
    t.equal(rows[0].key_hash, keyed, 'stored as HMAC-SHA-256 under the pepper');
    t.not(rows[0].key_hash, sha256(issued.key), 'not as a bare SHA-256');

    const bad = await call(service, keyA, 'POST', '/admin/api-keys', { name: ' ', scopes: ['root'] });
    t.equal(bad.statusCode, 400);
    t.same(
      bad
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
      ['body.name', 'body.scopes.0'],
    );
    t.equal((await call(service, keyA, 'DELETE', '/admin/api-keys/999999')).statusCode, 404);

    // One system, one key at several services: the caller supplies a key of the generated shape.
    const shared = `cdk_${'s'.repeat(43)}`;
    const supplied = await call(service, keyA, 'POST', '/admin/api-keys', {
      name: 'evaluation',
      scopes: ['admin'],
      key: shared,
    });
    t.equal(supplied.statusCode, 201);
    t.equal(supplied.json().key, shared);
    t.equal((await call(service, shared)).statusCode, 200, 'the supplied key works');
    const again = await call(service, keyA, 'POST', '/admin/api-keys', {
      name: 'evaluation 2',
      scopes: ['admin'],
      key: shared,
    });
    t.equal(again.statusCode, 409, 'a key registered already is refused');
    const weak = await call(service, keyA, 'POST', '/admin/api-keys', {
      name: 'weak',
      scopes: ['read'],
      key: 'cdk_short',
    });
    t.equal(weak.statusCode, 400);
    t.match(weak.json().errors, [{ field: 'body.key' }], 'a key not of the generated shape is refused');
    await call(service, keyA, 'DELETE', `/admin/api-keys/${supplied.json().id}`);

    const revoked = await call(service, keyA, 'DELETE', `/admin/api-keys/${issued.id}`);
    t.equal(revoked.statusCode, 200);
    t.ok(revoked.json().revokedAt, 'revoked');
    t.equal(revoked.json().revokedBy, 'api-key:ADMIN_API_KEY', 'and by whom');
    t.equal((await call(service, issued.key)).statusCode, 401, 'a revoked key stops working at once');

    const adminRow = listed.json().items[0];
    const itself = await call(service, keyA, 'DELETE', `/admin/api-keys/${adminRow.id}`);
    t.equal(itself.statusCode, 409, 'a key cannot revoke itself (its holder would be locked out)');
    t.equal((await call(service, keyA)).statusCode, 200, 'and still works');
    t.equal((await call(service, ops.key, 'DELETE', `/admin/api-keys/${adminRow.id}`)).statusCode, 200);
    t.equal((await call(service, keyA)).statusCode, 401, 'the configured key can be revoked too');

    await shutdown(service);
    service = await start(keyA);
    t.equal(
      (await call(service, keyA)).statusCode,
      401,
      'a revoked configured key does not come back on restart',
    );
    t.equal((await call(service, ops.key)).statusCode, 200, 'issued keys survive a restart');

    await shutdown(service);
    service = await start(keyB);
    t.equal((await call(service, keyB)).statusCode, 200, 'a newly configured key works');
    await shutdown(service);
    service = await start(keyC);
    t.equal((await call(service, keyB)).statusCode, 401, 'after rotation, the old configured key is revoked');
    t.equal((await call(service, keyC)).statusCode, 200, 'and the new one works');
    const items = (await call(service, keyC)).json().items as {
      name: string;
      source: string;
      revokedAt: string;
    }[];
    t.equal(
      items.filter((k) => k.source === 'config' && !k.revokedAt).length,
      1,
      'one configured key is live',
    );

    await shutdown(service);
    service = await start(undefined);
    t.equal((await call(service, keyC)).statusCode, 401, 'without ADMIN_API_KEY no configured key is live');
    t.equal((await call(service, ops.key)).statusCode, 200, 'issued keys are managed by the API alone');
  },
);

t.test('rows hashed without a pepper are upgraded in place at the next start', async (t) => {
  const old = await createQuickTestDatabase();
  t.teardown(() => old.drop());
  // The schema as the code before keyed hashes left it: its migrations, its rows (SHA-256 of the key).
  const db = createDatabase<any>({ connectionString: old.url, schema: 'legacy', maxConnections: 2 });
  await migrateSchema(db.db, 'legacy', {
    ...messagingMigrations('legacy'),
    '0000_01_api_keys': apiKeyMigrations['0000_01_api_keys']!,
  });
  const websiteKey = 'cdk_website-key-made-by-hand-0123456789';
  await db.pool.query(
    `insert into legacy.api_key (name, key_hash, scopes) values ('ADMIN_API_KEY', $1, '{admin}'), ('website', $2, '{read}')`,
    [sha256(keyA), sha256(websiteKey)],
  );
  await db.destroy();

  const { ADMIN_API_KEY: _, ...env } = testServiceEnv(old, prefix);
  const service = await createService<ServiceTables, BaseConfig, null>(
    {
      service: 'registration',
      migrations: {},
      context: () => null,
      features: [],
      http: { title: 'keys', description: 'x' },
      app: async () => {},
    },
    loadConfig(baseConfigSchema({ port: 0, schema: 'legacy' }), {
      ...env,
      ADMIN_API_KEY: keyA,
      API_KEY_PEPPER: PEPPER,
    }),
  );
  t.teardown(() => shutdown(service).catch(() => {}));
  t.equal((await call(service, keyA)).statusCode, 200, 'the configured key still works');
  t.equal((await call(service, websiteKey)).statusCode, 403, 'the hand-made read key is still known');
  const { rows } = await service.runtime.pool.query(
    'select name, source, hash_scheme, key_hash from legacy.api_key order by id',
  );
  t.match(rows, [
    { name: 'ADMIN_API_KEY', source: 'config', hash_scheme: 'hmac-sha256' },
    { name: 'website', source: 'issued', hash_scheme: 'hmac-sha256' },
  ]);
  t.notOk(
    rows.some((r: { key_hash: string }) => r.key_hash === sha256(keyA) || r.key_hash === sha256(websiteKey)),
    'no bare SHA-256 is left',
  );
});
