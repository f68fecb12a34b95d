import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { serviceEnvironment, serviceNodeFlags } from '@citydeals/infra/build';
import { connectNats } from '@citydeals/messaging';
import { deleteNamespaceStreams, freePort, testServers } from '@citydeals/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { repoRoot, type Spawned, spawnTs, waitForHttp } from './processes.ts';

export type ServiceName = 'registration' | 'notification' | 'deal-tracking' | 'console';

export const BENCH_ADMIN_KEY = `cdk_bench_${randomUUID()}`;

export interface RunningService extends Spawned {
  name: ServiceName;
  base: string;
}

/** Peak RSS per service, the highest seen over every scenario that ran it; main.ts turns it into rows. */
export const peakRssByService = new Map<ServiceName, { mb: number; during: string[] }>();

/**
 * Starts a service as deployed — its bundle, services/<name>/dist/server.mjs, built by `npm run build`
 * (which `npm run bench` runs first) — as its own process on a free loopback port and waits for
 * /health/ready, so migrations ran and consumers are attached before any load.
 */
export async function startService(
  name: ServiceName,
  env: { DATABASE_URL: string; EVENT_NAMESPACE: string } & Record<string, string>,
): Promise<RunningService> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const bundle = `${repoRoot}services/${name}/dist/server.mjs`;
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first`);
  const spawned = await spawnTs(
    bundle,
    [],
    {
      NATS_URL: testServers.natsUrl,
      PORT: String(port),
      ...serviceEnvironment,
      ADMIN_API_KEY: BENCH_ADMIN_KEY,
      LOG_LEVEL: 'warn',
      PUBLIC_BASE_URL: 'https://cop.example.org',
      // The load generator is one address on purpose.
      RATE_LIMIT_PER_MINUTE: '0',
      // The same for the registration budgets and the waitlist bound (registration ignores the rest).
      REGISTRATIONS_PER_CLIENT_PER_HOUR: '0',
      REGISTRATIONS_PER_ADDRESS_PER_HOUR: '0',
      WAITLIST_LIMIT: '0',
      ...env,
    },
    () => true,
    60_000,
    // BENCH_NODE_FLAGS='--trace-gc --max-old-space-size=…' adds node flags after the deployed ones, for
    // trying a flag on the services without changing serviceNodeFlags (--trace-gc goes to their output).
    [...serviceNodeFlags, ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])],
  );
  await waitForHttp(`${base}/health/ready`).catch(async (err: Error) => {
    await spawned.stop();
    throw new Error(`${name}: ${err.message}\n${spawned.output().slice(-3000)}`);
  });
  return { ...spawned, name, base };
}

/** Reads the service's VmHWM into the peak-RSS table, then stops it. */
export async function stopService(service: RunningService | undefined, during: string): Promise<void> {
  if (!service) return;
  recordPeakRss(service, during);
  await service.stop();
}

export function recordPeakRss(service: RunningService, during: string): void {
  const mb = service.peakRssMb();
  if (mb === 0) return;
  const seen = peakRssByService.get(service.name) ?? { mb: 0, during: [] };
  seen.mb = Math.max(seen.mb, mb);
  seen.during.push(during);
  peakRssByService.set(service.name, seen);
}

/** Removes the streams (and so the consumers) a scenario's services created in its event namespace. */
export async function removeNamespace(prefix: string): Promise<void> {
  const nc = await connectNats({ url: testServers.natsUrl, name: 'bench-cleanup' });
  try {
    await deleteNamespaceStreams(await jetstreamManager(nc), prefix);
  } finally {
    await nc.close();
  }
}

export function adminHeaders(): Record<string, string> {
  return { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' };
}

/** Polls until `check` holds; throws with `describe()` when the time is up (work not done is never a figure). */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => Promise<string> | string,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
