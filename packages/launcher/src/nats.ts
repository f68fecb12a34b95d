import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { ServiceSchema } from '@citydeals/infra/postgres';
import { REPO_ROOT } from './config.ts';
import type { DevSecrets } from './dev-secrets.ts';
import { describeExit, type ManagedProcess, startManagedProcess } from './managed-process.ts';
import { freePort, LOCALHOST } from './ports.ts';

export const NATS_CONFIG = join(REPO_ROOT, 'infra', 'nats', 'nats-server.conf');

export interface NatsCredentials {
  user: string;
  password: string;
}

export interface NatsHandle {
  /** `external`: NATS_URL; `infra-config`: local nats-server with per-service users; `plain`: local, no users. */
  readonly kind: 'external' | 'infra-config' | 'plain';
  readonly url: string;
  readonly version?: string;
  /** Per-service login; absent when the server has no users (or the caller supplies NATS_USER itself). */
  readonly credentials?: Readonly<Partial<Record<ServiceSchema, NatsCredentials>>>;
  /** Something a person should know, e.g. why the infra config was not used. */
  readonly note?: string;
  readonly process?: ManagedProcess;
  stop(): Promise<void>;
}

export class NatsServerMissing extends Error {
  constructor() {
    super(
      [
        'nats-server was not found on PATH. Either install it:',
        '  Debian/Ubuntu: sudo apt-get install nats-server',
        '  macOS:         brew install nats-server',
        '  any system:    the release binary from https://github.com/nats-io/nats-server/releases',
        'or point npm start at a running NATS with JetStream: NATS_URL=nats://host:4222 npm start',
      ].join('\n'),
    );
    this.name = 'NatsServerMissing';
  }
}

/** NATS_URL as given; per-service users when NATS_<SERVICE>_PASSWORD are set (the infra config's users). */
export function useExternalNats(
  url: string,
  passwords: Partial<Record<ServiceSchema, string | undefined>>,
): NatsHandle {
  const credentials: Partial<Record<ServiceSchema, NatsCredentials>> = {};
  for (const [service, password] of Object.entries(passwords) as [ServiceSchema, string | undefined][]) {
    if (password) credentials[service] = { user: service, password };
  }
  return { kind: 'external', url, credentials, stop: async () => {} };
}

/** Looks on PATH, then in the sbin folders a normal user's PATH often lacks (Debian puts it in /usr/sbin). */
export async function findNatsServer(
  path = process.env.PATH ?? '',
  alsoIn: readonly string[] = ['/usr/local/sbin', '/usr/sbin'],
): Promise<string | undefined> {
  const dirs = [...path.split(delimiter).filter(Boolean), ...alsoIn];
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server');
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

/**
 * Starts nats-server with JetStream, its store in `<dataDir>/nats`, on a free port. It runs the infra
 * config (one user per service, publish limited to its own subjects) with the port and store dir given on
 * the command line; if that config cannot be used, plain `-js` without users, and the note says so.
 */
export async function startLocalNats(
  binary: string,
  dataDir: string,
  secrets: DevSecrets,
  configFile = NATS_CONFIG,
  /** A restart keeps the port the services were given. */
  port?: number,
): Promise<NatsHandle> {
  const storeDir = join(dataDir, 'nats');
  await mkdir(storeDir, { recursive: true });
  const version = await natsVersion(binary);
  port ??= await freePort();
  const url = `nats://${LOCALHOST}:${port}`;
  const common = ['-a', LOCALHOST, '-p', String(port), '-sd', storeDir];

  let reason: string;
  if (
    await access(configFile).then(
      () => true,
      () => false,
    )
  ) {
    const server = startManagedProcess({
      name: 'nats-server',
      command: binary,
      args: ['-c', configFile, ...common],
      env: {
        ...process.env,
        NATS_REGISTRATION_PASSWORD: secrets.nats.registration,
        NATS_DEAL_TRACKING_PASSWORD: secrets.nats.deal_tracking,
        NATS_NOTIFICATION_PASSWORD: secrets.nats.notification,
        NATS_ADMIN_PASSWORD: secrets.nats.admin,
      },
    });
    const failure = await waitUntilReady(server);
    if (!failure) {
      const credentials = {
        registration: { user: 'registration', password: secrets.nats.registration },
        deal_tracking: { user: 'deal_tracking', password: secrets.nats.deal_tracking },
        notification: { user: 'notification', password: secrets.nats.notification },
      };
      return { kind: 'infra-config', url, version, credentials, process: server, stop: stopper(server) };
    }
    await server.stop('SIGKILL', 1_000);
    reason = failure;
  } else {
    reason = `${configFile} is missing`;
  }

  const server = startManagedProcess({ name: 'nats-server', command: binary, args: ['-js', ...common] });
  const failure = await waitUntilReady(server);
  if (failure) throw new Error(`nats-server did not start: ${failure}`);
  return {
    kind: 'plain',
    url,
    version,
    note: `the infra NATS config could not be used (${reason}); running plain JetStream without per-service users`,
    process: server,
    stop: stopper(server),
  };
}

// SIGTERM lets nats-server flush JetStream and close its store cleanly.
const stopper = (server: ManagedProcess) => async () => {
  await server.stop('SIGTERM', 10_000);
};

/** Undefined when ready; otherwise why not, with its last lines. */
async function waitUntilReady(server: ManagedProcess, timeoutMs = 10_000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.recentOutput().some((line) => line.includes('Server is ready'))) return undefined;
    if (!server.isRunning()) {
      const status = await server.exited;
      return `${describeExit(status)}: ${server.recentOutput().slice(-5).join(' | ')}`;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return `not ready after ${timeoutMs / 1000} s: ${server.recentOutput().slice(-5).join(' | ')}`;
}

async function natsVersion(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(binary, ['--version'], { timeout: 5_000 });
    return /v?(\d+\.\d+\.\d+\S*)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}
