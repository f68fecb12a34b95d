import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort } from '@citydeals/testkit';

export type PoolMode = 'session' | 'transaction' | 'statement';

export interface PgBouncer {
  readonly port: number;
  readonly mode: PoolMode;
  /** `databaseUrl` with its host and port replaced by this PgBouncer's. */
  through(databaseUrl: string): string;
  output(): string;
  close(): Promise<void>;
}

/**
 * A real PgBouncer (Debian's `pgbouncer` package) in front of the Postgres of `databaseUrl`, in the given
 * pool mode, trusting the URL's user. PgBouncer refuses to run as root: as root it is started with `-u
 * postgres` (the user the Debian Postgres packages create).
 */
export async function startPgBouncer(databaseUrl: string, mode: PoolMode): Promise<PgBouncer> {
  const target = new URL(databaseUrl);
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pgbouncer-'));
  await chmod(dir, 0o777);
  const user = decodeURIComponent(target.username);
  await writeFile(join(dir, 'users.txt'), `"${user}" ""\n`);
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      `pool_mode = ${mode}`,
      'max_client_conn = 500',
      'default_pool_size = 60',
      '',
    ].join('\n'),
  );
  const binary = existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : 'pgbouncer';
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(
    binary,
    [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-16_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (err) => {
    output += `${err.message} (is Debian's pgbouncer package installed?)`;
  });
  const listening = await eventually(
    () =>
      new Promise<boolean>((resolve) => {
        if (child.exitCode !== null) return resolve(false);
        const socket = connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      }).then((ok) => (ok ? true : undefined)),
    10_000,
    100,
  );
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  if (!listening) {
    await close();
    throw new Error(`pgbouncer (${mode}) did not start:\n${output}`);
  }
  return {
    port,
    mode,
    through(url: string) {
      const via = new URL(url);
      via.hostname = '127.0.0.1';
      via.port = String(port);
      return via.toString();
    },
    output: () => output,
    close,
  };
}
