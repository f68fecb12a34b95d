// Proves infra/postgres against a real Postgres: each service's role works in its own schema and is refused
// (42501) in the others' and in public. Roles are cluster-wide, so this run's roles and database carry a
// unique suffix and are dropped at the end, failure or not.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import t from 'tap';
import {
  applyInitSql,
  type InitSqlVars,
  quoteIdentifier,
  quoteLiteral,
  renderInitSql,
  SERVICE_SCHEMAS,
  type ServiceSchema,
  substitutePsqlVariables,
} from '../postgres/apply-init-sql.ts';

// A subtest's `t` (the last overload of t.test takes just the callback).
type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const initdbScript = fileURLToPath(new URL('../postgres/initdb/10-citydeals-roles.sh', import.meta.url));

t.test('renderInitSql quoting', async (t) => {
  t.equal(quoteIdentifier('a"b c'), '"a""b c"');
  t.equal(quoteLiteral("it's"), "'it''s'");
  t.equal(quoteLiteral('a\\b'), " E'a\\\\b'", 'backslashes: escape-string syntax, as psql does');
  t.throws(() => quoteLiteral('a\0b'), /NUL/);

  const vars = { r: 'x"; DROP TABLE t; --', p: "'); DROP TABLE t; --" };
  t.equal(
    substitutePsqlVariables(`ALTER ROLE :"r" PASSWORD :'p';`, vars),
    `ALTER ROLE "x""; DROP TABLE t; --" PASSWORD '''); DROP TABLE t; --';`,
    'injection attempts stay inside their quotes',
  );
  const untouched = [
    `SELECT ':''p''' -- :'p'\n`,
    `/* :'p' /* nested :"r" */ still :'p' */`,
    `SELECT 1::text, E'\\' :''p''', ":'p'"`,
    `DO $body$ BEGIN PERFORM :'p'; END $body$; SELECT $$:"r"$$`,
    'SELECT a[1:2]',
  ];
  for (const sql of untouched) t.equal(substitutePsqlVariables(sql, vars), sql, `untouched: ${sql}`);
  t.equal(
    substitutePsqlVariables(`SELECT $1, :'p'`, { p: 'v' }),
    `SELECT $1, 'v'`,
    'positional $1 is no dollar quote',
  );

  t.throws(() => substitutePsqlVariables(`SELECT :'missing'`, vars), /missing is not set/);
  t.throws(() => substitutePsqlVariables('SELECT :p', vars), /unquoted psql variable :p/);
  t.throws(() => substitutePsqlVariables('SELECT 1 \\gexec', vars), /meta-command/);
  t.throws(() => substitutePsqlVariables(`SELECT 'open`, vars), /unterminated string/);

  const ok: InitSqlVars = {
    registration: { role: 'r', password: 'p' },
    deal_tracking: { role: 'd', password: 'p' },
    notification: { role: 'n', password: 'p' },
    console: { role: 'c', password: 'p' },
  };
  t.throws(
    () => renderInitSql({ ...ok, notification: { role: 'x'.repeat(64), password: 'p' } }),
    /1 to 63 bytes/,
  );
  t.throws(
    () => renderInitSql({ ...ok, notification: { role: 'r', password: 'p' } }),
    /more than one service/,
  );
  t.throws(() => renderInitSql({ ...ok, notification: { role: 'n', password: '' } }), /must not be empty/);
  const rendered = renderInitSql(ok);
  t.notMatch(rendered, /:['"][a-z_]+['"]/, 'no psql variable left in the rendered file');
  t.match(rendered, `ALTER ROLE "r" WITH LOGIN`);
});

t.test('each service role is confined to its own schema', async (t) => {
  const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const database = `infra_isolation_${runId}`;
  // Awkward characters in one name and in the passwords prove the quoting against the real server.
  const vars: InitSqlVars = {
    registration: { role: `infra_${runId}_Registration "svc"`, password: `it's a \\ "test"; --` },
    deal_tracking: { role: `infra_${runId}_deal_tracking`, password: 'p-deal' },
    notification: { role: `infra_${runId}_notification`, password: 'p-notification' },
    console: { role: `infra_${runId}_console`, password: 'p-console' },
  };
  const roles = SERVICE_SCHEMAS.map((schema) => vars[schema].role);

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const clients: pg.Client[] = [];
  t.teardown(async () => {
    await Promise.allSettled(clients.map((c) => c.end()));
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`).catch(t.error);
    for (const role of roles)
      await admin.query(`DROP ROLE IF EXISTS ${quoteIdentifier(role)}`).catch(t.error);
    await admin.end();
  });
  await admin.query(`CREATE DATABASE ${quoteIdentifier(database)}`);

  const connect = async (user: string, password?: string) => {
    const url = new URL(adminUrl);
    // Separate fields: pg lets a connection string win over explicit ones.
    const client = new pg.Client({
      host: url.searchParams.get('host') ?? url.hostname,
      port: Number(url.port || 5432),
      database,
      user,
      password: password ?? decodeURIComponent(url.password),
    });
    clients.push(client);
    await client.connect();
    return client;
  };
  const superuser = await connect(decodeURIComponent(new URL(adminUrl).username) || 'postgres');
  await applyInitSql(superuser, vars);

  const owners = await superuser.query<{ nspname: string; owner: string }>(
    `SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = ANY($1) ORDER BY nspname`,
    [[...SERVICE_SCHEMAS]],
  );
  t.same(
    owners.rows,
    [...SERVICE_SCHEMAS].sort().map((schema) => ({ nspname: schema, owner: vars[schema].role })),
    'each schema is owned by its role',
  );
  const attributes = await superuser.query(
    `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolpassword IS NOT NULL AS has_password
       FROM pg_authid WHERE rolname = ANY($1)`,
    [roles],
  );
  for (const row of attributes.rows) {
    t.same(
      { ...row, rolname: undefined },
      {
        rolname: undefined,
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        rolcanlogin: true,
        has_password: true,
      },
      `${row.rolname}: login role with a password and nothing more`,
    );
  }

  const services = {} as Record<ServiceSchema, pg.Client>;
  for (const schema of SERVICE_SCHEMAS)
    services[schema] = await connect(vars[schema].role, vars[schema].password);

  for (const schema of SERVICE_SCHEMAS) {
    const client = services[schema];
    await client.query(`CREATE TABLE ${schema}.probe (id int)`);
    await client.query(`INSERT INTO ${schema}.probe VALUES (1)`);
    const { rows } = await client.query(`SELECT id FROM ${schema}.probe`);
    t.same(rows, [{ id: 1 }], `${schema}: creates, writes and reads in its own schema`);
    const current = await client.query('SELECT current_schema() AS s');
    t.equal(current.rows[0].s, schema, `${schema}: unqualified names resolve to its own schema`);
  }

  for (const schema of SERVICE_SCHEMAS) {
    const client = services[schema];
    for (const other of SERVICE_SCHEMAS.filter((s) => s !== schema)) {
      await refused(t, client, `SELECT * FROM ${other}.probe`, `${schema} reading ${other}`);
      await refused(t, client, `INSERT INTO ${other}.probe VALUES (2)`, `${schema} writing ${other}`);
      await refused(t, client, `CREATE TABLE ${other}.intruder (id int)`, `${schema} creating in ${other}`);
    }
    await refused(t, client, 'CREATE TABLE public.intruder (id int)', `${schema} creating in public`);
  }

  // The probe can see a leak: grant one by hand, watch it work, then a re-run of the init SQL takes it back.
  const dealTrackingRole = quoteIdentifier(vars.deal_tracking.role);
  await superuser.query(`GRANT USAGE ON SCHEMA registration TO ${dealTrackingRole}`);
  await superuser.query(`GRANT SELECT ON registration.probe TO ${dealTrackingRole}`);
  const leaked = await services.deal_tracking.query('SELECT id FROM registration.probe');
  t.same(leaked.rows, [{ id: 1 }], 'a hand-made grant is visible to the probe');
  await applyInitSql(superuser, vars);
  await refused(
    t,
    services.deal_tracking,
    'SELECT * FROM registration.probe',
    're-applied init SQL revokes it',
  );

  t.test(
    'the initdb script applies the same SQL through psql',
    { skip: !hasPsql() && 'no psql on PATH' },
    async (t) => {
      const scriptDb = `${database}_initdb`;
      t.teardown(() => admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(scriptDb)} WITH (FORCE)`));
      await admin.query(`CREATE DATABASE ${quoteIdentifier(scriptDb)}`);
      const url = new URL(adminUrl);
      const run = spawnSync('bash', [initdbScript], {
        encoding: 'utf8',
        env: {
          ...process.env,
          PGHOST: url.searchParams.get('host') ?? url.hostname,
          PGPORT: url.port || '5432',
          PGPASSWORD: decodeURIComponent(url.password),
          POSTGRES_USER: decodeURIComponent(url.username) || 'postgres',
          POSTGRES_DB: scriptDb,
          CITYDEALS_INIT_SQL: fileURLToPath(new URL('../postgres/init.sql', import.meta.url)),
          REGISTRATION_DB_ROLE: vars.registration.role,
          REGISTRATION_DB_PASSWORD: vars.registration.password,
          DEAL_TRACKING_DB_ROLE: vars.deal_tracking.role,
          DEAL_TRACKING_DB_PASSWORD: vars.deal_tracking.password,
          NOTIFICATION_DB_ROLE: vars.notification.role,
          NOTIFICATION_DB_PASSWORD: vars.notification.password,
          CONSOLE_DB_ROLE: vars.console.role,
          CONSOLE_DB_PASSWORD: vars.console.password,
        },
      });
      t.equal(run.status, 0, 'script succeeds', { stderr: run.stderr });
      const scripted = new pg.Client({
        host: url.searchParams.get('host') ?? url.hostname,
        port: Number(url.port || 5432),
        database: scriptDb,
        user: vars.notification.role,
        password: vars.notification.password,
      });
      await scripted.connect();
      t.teardown(() => scripted.end());
      await scripted.query('CREATE TABLE probe (id int)');
      await refused(
        t,
        scripted,
        'SELECT * FROM registration.probe',
        'script-made database: notification reading registration',
      );
      const schemas = await scripted.query(
        `SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = ANY($1) ORDER BY nspname`,
        [[...SERVICE_SCHEMAS]],
      );
      t.same(
        schemas.rows,
        [...SERVICE_SCHEMAS].sort().map((schema) => ({ nspname: schema, owner: vars[schema].role })),
        'same owners as through TypeScript',
      );
    },
  );
});

async function refused(t: TestContext, client: pg.Client, sql: string, what: string): Promise<void> {
  const error = await client.query(sql).then(
    () => undefined,
    (e: { code?: string; message?: string }) => e,
  );
  t.equal(error?.code, '42501', `${what}: refused with 42501`, { sql, message: error?.message });
}

function hasPsql(): boolean {
  return spawnSync('psql', ['--version']).status === 0;
}
