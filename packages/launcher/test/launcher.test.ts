// The launcher's proof is a real run: `npm start` on a temporary data folder (embedded Postgres, its own
// nats-server with the infra config, the three services), checked from outside, stopped with SIGINT, and
// started again on the same data. Pure parts are tested directly first.
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ROLE_NAMES, SERVICE_SCHEMAS } from '@citydeals/infra/postgres';
import pg from 'pg';
import t from 'tap';
import { formatLogLine } from '../src/child-log.ts';
import { loadLauncherConfig } from '../src/config.ts';
import { loadOrCreateDevSecrets } from '../src/dev-secrets.ts';
import {
  buildServiceEnv,
  choosePort,
  freePort,
  isPortFree,
  resolveAdminKey,
  SERVICES,
  type ServiceDefinition,
} from '../src/index.ts';
import { findNatsServer, NatsServerMissing, startLocalNats } from '../src/nats.ts';
import { type Run, startLauncher, stopWithCtrlC } from './launcher-run.ts';

const service = (dir: string) => SERVICES.find((s) => s.dir === dir) as ServiceDefinition;

t.test('port choice', async (t) => {
  const taken = new Set([3001]);
  const free = async (p: number) => !taken.has(p);
  const pick = async () => 45_678;
  t.same(await choosePort(undefined, 3002, 'X_PORT', free, pick), { port: 3002 }, 'default when free');
  const moved = await choosePort(undefined, 3001, 'X_PORT', free, pick);
  t.equal(moved.port, 45_678, 'another port when the default is taken');
  t.match(moved.note, /3001 is in use, using 45678.*X_PORT/, 'and says so');
  t.same(await choosePort(0, 3001, 'X_PORT', free, pick), { port: 45_678 }, '0 = any free port');
  await t.rejects(choosePort(3001, 3002, 'X_PORT', free, pick), /3001 \(X_PORT\) is already in use/);

  const port = await freePort();
  t.ok(await isPortFree(port), 'a port from freePort is free');
});

t.test('service environment', async (t) => {
  const base = {
    PATH: '/bin',
    NATS_ADMIN_PASSWORD: 'admin-secret',
    NATS_DEAL_TRACKING_PASSWORD: 'other-secret',
    NATS_USER: 'stray',
    EVENT_NAMESPACE: 'stray',
    CITYDEALS_DATA_DIR: '/x',
  };
  const input = {
    port: 3001,
    databaseUrl: 'postgres://registration_svc:pw@127.0.0.1:5555/citydeals',
    natsUrl: 'nats://127.0.0.1:4444',
    natsCredentials: { user: 'registration', password: 'own-secret' },
    adminKey: 'cdk_0123456789abcdefghijklmnop',
    logLevel: 'warn',
    mailDir: '/data/mail',
  };
  const env = buildServiceEnv(service('registration'), input, base);
  t.match(env, {
    PATH: '/bin',
    PORT: '3001',
    HOST: '127.0.0.1',
    DATABASE_URL: input.databaseUrl,
    NATS_URL: input.natsUrl,
    NATS_USER: 'registration',
    NATS_PASSWORD: 'own-secret',
    ADMIN_API_KEY: input.adminKey,
    LOG_LEVEL: 'warn',
    PUBLIC_BASE_URL: 'http://127.0.0.1:3001',
    SEED_DEMO_DATA: 'true',
  });
  for (const name of [
    'NATS_ADMIN_PASSWORD',
    'NATS_DEAL_TRACKING_PASSWORD',
    'CITYDEALS_DATA_DIR',
    'MAIL_DIR',
  ]) {
    t.notOk(name in env, `${name} is not passed to a service`);
  }
  t.notOk('EVENT_NAMESPACE' in env, 'no namespace unless the launcher chose one');

  t.notOk('API_KEY_PEPPER' in env, 'no pepper unless the launcher has one');
  const peppered = buildServiceEnv(service('registration'), { ...input, apiKeyPepper: 'p'.repeat(32) }, base);
  t.equal(peppered.API_KEY_PEPPER, 'p'.repeat(32), "API keys are hashed with the data folder's pepper");
  const notification = buildServiceEnv(
    service('notification'),
    { ...input, port: 3003, webhookSecretKey: 'a2V5' },
    base,
  );
  t.equal(notification.MAIL_DIR, '/data/mail', 'notification writes mails to the folder');
  t.equal(notification.WEBHOOK_SECRET_KEY, 'a2V5', 'webhook secrets are sealed at rest locally too');
  t.equal(notification.WEBHOOK_ALLOWED_CIDRS, '127.0.0.0/8,::1/128', 'a local webhook receiver is allowed');
  t.equal(notification.WEBHOOK_ALLOWED_PORTS, '*', 'on any port (production allows 80 and 443 only)');
  t.equal(notification.OFFICE_ALERT_EMAIL, 'kantoor@citydeals.example.org', 'alerts land in the mail folder');
  t.notOk('WEBHOOK_ALLOWED_CIDRS' in env, 'only the notification service gets webhook settings');
  const withDigest = { ...input, personDigestKey: 'ZGlnZXN0' };
  t.equal(buildServiceEnv(service('registration'), withDigest, base).PERSON_DIGEST_KEY, 'ZGlnZXN0');
  t.equal(
    buildServiceEnv(service('deal-tracking'), withDigest, base).PERSON_DIGEST_KEY,
    'ZGlnZXN0',
    'registration and deal-tracking share the key that names an erased person',
  );
  t.notOk('PERSON_DIGEST_KEY' in buildServiceEnv(service('notification'), withDigest, base));
  const smtp = buildServiceEnv(service('notification'), { ...input, smtpUrl: 'smtp://mail:25' }, base);
  t.equal(smtp.SMTP_URL, 'smtp://mail:25', 'or sends them through SMTP_URL');
  t.notOk('MAIL_DIR' in smtp);

  const plain = buildServiceEnv(
    service('deal-tracking'),
    { ...input, natsCredentials: undefined, natsWithoutUsers: true, eventNamespace: 'ns1' },
    base,
  );
  t.notOk('NATS_USER' in plain, 'a NATS without users gets no stray user');
  t.equal(plain.EVENT_NAMESPACE, 'ns1');
  t.equal(
    buildServiceEnv(service('registration'), input, { SEED_DEMO_DATA: 'false' }).SEED_DEMO_DATA,
    'false',
  );
});

t.test('configuration and admin key', async (t) => {
  const config = loadLauncherConfig({ REGISTRATION_PORT: '0', DEAL_TRACKING_PORT: '' });
  t.equal(config.REGISTRATION_PORT, 0);
  t.equal(config.DEAL_TRACKING_PORT, undefined);
  t.equal(config.LOG_LEVEL, 'warn', 'services are quiet by default');
  t.ok(Object.isFrozen(config));
  t.throws(
    () => loadLauncherConfig({ NOTIFICATION_PORT: 'abc', ADMIN_API_KEY: 'short', DATABASE_URL: 'mysql://x' }),
    /NOTIFICATION_PORT[\s\S]*DATABASE_URL[\s\S]*ADMIN_API_KEY|NOTIFICATION_PORT/,
  );

  const dir = await mkdtemp(join(tmpdir(), 'launcher-key-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const created = await resolveAdminKey(dir, undefined);
  t.equal(created.source, 'created');
  t.match(created.key, /^cdk_[A-Za-z0-9_-]{43}$/, 'cdk_ + 32 random bytes, base64url');
  t.same(await resolveAdminKey(dir, undefined), { ...created, source: 'reused' }, 'the next run reuses it');
  t.same(await resolveAdminKey(dir, 'cdk_from-the-environment-123456'), {
    key: 'cdk_from-the-environment-123456',
    source: 'env',
  });

  const secrets = await loadOrCreateDevSecrets(dir);
  t.ok((secrets.apiKeyPepper ?? '').length >= 32, 'a pepper for the API keys, kept outside the database');
  for (const [user, password] of Object.entries(secrets.nats)) {
    // nats-server reads `5e3f...` from the environment as a number and refuses to start.
    t.match(password, /^[a-z][a-z0-9]{20,}$/, `NATS password of ${user} starts with a letter`);
  }
  t.same(await loadOrCreateDevSecrets(dir), secrets, 'secrets are kept for the next run');

  t.equal(formatLogLine('{"level":40,"msg":"slow","err":{"message":"boom"}}'), 'WARN slow (boom)');
  t.equal(formatLogLine('plain text'), 'plain text');
});

t.test('nats-server: missing, and a config that cannot be used', async (t) => {
  t.equal(await findNatsServer('/nonexistent', []), undefined, 'not found');
  t.match(new NatsServerMissing().message, /apt-get install nats-server[\s\S]*releases[\s\S]*NATS_URL=/);

  const binary = await findNatsServer();
  if (!binary) {
    t.pass('no nats-server here: fallback not checked');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'launcher-nats-'));
  const brokenConfig = join(dir, 'broken.conf');
  await writeFile(brokenConfig, 'authorization { users: [ { user: a, password: $UNSET_VARIABLE } ] }\n');
  const secrets = await loadOrCreateDevSecrets(dir);
  const nats = await startLocalNats(binary, dir, secrets, brokenConfig);
  t.teardown(async () => {
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });
  t.equal(nats.kind, 'plain', 'falls back to plain JetStream');
  t.match(nats.note, /could not be used .*without per-service users/, 'and says so');
  t.equal(nats.credentials, undefined);
});

t.test('npm start: start, use, stop with Ctrl-C, start again on the same data', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'citydeals-launcher-'));
  // Postgres runs as the `postgres` OS user here (we are root), which must be able to enter the folder.
  await chmod(dataDir, 0o755);
  const runs: Run[] = [];
  t.teardown(async () => {
    for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  const first = await startLauncher(t, dataDir);
  runs.push(first);
  t.comment(`first start (initdb, migrations, seeds): ${(first.startupMs / 1000).toFixed(1)} s`);
  t.match(
    first.output(),
    /✓ Postgres \(embedded, new data folder\)/,
    'Postgres initialised on the first run',
  );
  t.match(
    first.output(),
    /✓ NATS \(nats-server .*JetStream, a user per service\)/,
    'NATS with the infra config',
  );

  for (const [title, url] of Object.entries(first.urls)) {
    const ready = await fetch(`${url}/health/ready`);
    t.equal(ready.status, 200, `${title}: /health/ready answers 200 on the printed URL`);
  }
  const registration = first.urls.Registration!;
  const withKey = await fetch(`${registration}/admin/dead-letters`, {
    headers: { authorization: `Bearer ${first.adminKey}` },
  });
  t.equal(withKey.status, 200, 'the printed admin key works on an admin route');
  const withoutKey = await fetch(`${registration}/admin/dead-letters`);
  t.equal(withoutKey.status, 401, 'and the route needs it');
  const consoleUrl = first.urls.Console!;
  const loginPage = await fetch(`${consoleUrl}/login`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())?.[1] ?? '';
  const csrfCookie = loginPage.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const login = await fetch(`${consoleUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: new URLSearchParams({ ...first.consoleLogin, _csrf: csrf }).toString(),
  });
  t.equal(login.status, 303, 'the printed console login works');
  const session = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('cd_session='))!
    .split(';')[0]!;
  const overview = await fetch(`${consoleUrl}/`, { headers: { cookie: session } });
  t.equal(overview.status, 200, 'and the console reaches the services as that person');

  const secrets = JSON.parse(await readFile(join(dataDir, 'dev-secrets.json'), 'utf8'));
  const asRole = async (schema: (typeof SERVICE_SCHEMAS)[number]) => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: first.postgresPort,
      database: 'citydeals',
      user: DEFAULT_ROLE_NAMES[schema],
      password: secrets.database[schema],
    });
    await client.connect();
    return client;
  };
  for (const schema of SERVICE_SCHEMAS) {
    const client = await asRole(schema);
    try {
      await client.query(`SELECT count(*) FROM ${schema}.kysely_migration`);
      t.pass(`${schema} reads its own schema`);
      for (const other of SERVICE_SCHEMAS.filter((s) => s !== schema)) {
        const error = await client.query(`SELECT count(*) FROM ${other}.kysely_migration`).then(
          () => undefined,
          (e: { code?: string }) => e,
        );
        t.equal(error?.code, '42501', `${schema}'s role is refused on ${other}'s schema`);
      }
    } finally {
      await client.end();
    }
  }
  const superuser = new pg.Client({
    host: '127.0.0.1',
    port: first.postgresPort,
    database: 'citydeals',
    user: 'postgres',
    password: secrets.postgresSuperuser,
  });
  await superuser.connect();
  await superuser.query('CREATE TABLE public.launcher_test_marker (v text)');
  await superuser.query('INSERT INTO public.launcher_test_marker VALUES ($1)', ['from the first run']);
  await superuser.end();

  const stopMs = await stopWithCtrlC(t, first);
  t.comment(`stop after SIGINT: ${(stopMs / 1000).toFixed(1)} s`);
  t.match(first.output(), /✓ stopped cleanly/);

  const second = await startLauncher(t, dataDir);
  runs.push(second);
  t.comment(`restart on the same data: ${(second.startupMs / 1000).toFixed(1)} s`);
  t.match(second.output(), /✓ Postgres \(embedded, existing data\)/, 'Postgres data folder reused');
  const postgresLine = /✓ Postgres \(embedded, existing data\) on \S+ — ([\d.]+) s/.exec(second.output());
  t.comment(`embedded Postgres restart: ${postgresLine?.[1]} s`);
  t.equal(second.adminKey, first.adminKey, 'the same admin key');
  t.same(second.consoleLogin, first.consoleLogin, 'the same console login, made only once');
  const client = new pg.Client({
    host: '127.0.0.1',
    port: second.postgresPort,
    database: 'citydeals',
    user: 'postgres',
    password: secrets.postgresSuperuser,
  });
  await client.connect();
  const marker = await client.query('SELECT v FROM public.launcher_test_marker');
  await client.end();
  t.same(marker.rows, [{ v: 'from the first run' }], 'data written in the first run is there');
  for (const [title, url] of Object.entries(second.urls)) {
    t.equal((await fetch(`${url}/health/ready`)).status, 200, `${title} ready again`);
  }
  t.ok((await readdir(join(dataDir, 'nats'))).length > 0, 'NATS keeps its store in the data folder');
  await stopWithCtrlC(t, second);
});
