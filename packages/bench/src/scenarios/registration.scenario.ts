import { randomUUID } from 'node:crypto';
import { createTestDatabase, freePort, uniqueName } from '@citydeals/testkit';
import {
  databaseCpuSeconds,
  databaseCpuSpent,
  type LoadResult,
  repoRoot,
  runLoad,
  type Spawned,
  spawnTs,
} from '../processes.ts';
import { type BenchRow, round, throughputRatio } from '../report.ts';
import {
  adminHeaders,
  type RunningService,
  removeNamespace,
  startService,
  stopService,
} from '../services.ts';

export const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;

/**
 * Registrations through the real service (HTTP, validation, seat decision under a meeting lock, token,
 * outbox event) against fastify doing one INSERT per request, both driven by the same load generator.
 */
export async function registrationScenarios(): Promise<BenchRow[]> {
  const raw = await rawBaseline();
  const database = await createTestDatabase('cd_bench');
  const namespace = uniqueName('bench');
  let service: RunningService | undefined;
  try {
    service = await startService('registration', { DATABASE_URL: database.url, EVENT_NAMESPACE: namespace });
    const base = service.base;
    const spread = await Promise.all(
      Array.from({ length: 50 }, (_, i) => createMeeting(base, `spread-${i}`, 100_000)),
    );
    const spreadLoad = await withCpu(service, database.name, () =>
      runLoad({
        url: base,
        meetingIds: spread,
        connections: CONNECTIONS,
        durationSeconds: DURATION_SECONDS,
        label: 'spread',
      }),
    );
    assertClean('spread', spreadLoad);
    const single = await createMeeting(base, 'single', 2_000);
    const singleLoad = await withCpu(service, database.name, () =>
      runLoad({
        url: base,
        meetingIds: [single],
        connections: CONNECTIONS,
        durationSeconds: DURATION_SECONDS,
        label: 'single',
      }),
    );
    assertClean('single', singleLoad);

    const rawFigure = {
      label: `fastify POST + one pg INSERT${cpuNote(raw)}`,
      value: round(raw.rps, 0),
      unit: 'req/s',
      p50: raw.p50,
      p99: raw.p99,
    };
    const figure = (load: typeof spreadLoad, label: string) => ({
      label,
      value: round(load.rps, 0),
      unit: 'req/s',
      p50: load.p50,
      p99: load.p99,
    });
    const spreadFigure = figure(
      spreadLoad,
      `${spreadLoad.requests} registrations over 50 meetings${cpuNote(spreadLoad)}`,
    );
    const singleFigure = figure(
      singleLoad,
      `${singleLoad.requests} registrations into one meeting (2 000 seats)${cpuNote(singleLoad)}`,
    );
    return [
      {
        scenario: 'registrations spread over 50 meetings',
        system: spreadFigure,
        raw: rawFigure,
        ratio: throughputRatio(spreadFigure, rawFigure),
        goal: '≥ 0.8',
      },
      {
        scenario: 'registrations into one meeting (seat decision under contention)',
        system: singleFigure,
        raw: rawFigure,
        ratio: throughputRatio(singleFigure, rawFigure),
        goal: '≥ 0.5',
      },
    ];
  } finally {
    await stopService(service, 'registrations');
    await removeNamespace(namespace).catch(() => {});
    await database.drop();
  }
}

/** The raw HTTP baseline (processes/raw-insert-server.ts) under the given load, in a database of its own. */
export async function rawBaseline(
  options: { connections?: number; durationSeconds?: number; overallRate?: number; paced?: boolean } = {},
) {
  const database = await createTestDatabase('cd_bench_raw');
  const port = await freePort();
  let server: Spawned | undefined;
  try {
    server = await spawnTs(
      `${repoRoot}packages/bench/src/processes/raw-insert-server.ts`,
      [database.url, String(port)],
      {},
      (out) => out.includes('ready'),
    );
    const load = await withCpu(server, database.name, () =>
      runLoad({
        url: `http://127.0.0.1:${port}`,
        meetingIds: Array.from({ length: 50 }, () => randomUUID()),
        connections: options.connections ?? CONNECTIONS,
        durationSeconds: options.durationSeconds ?? DURATION_SECONDS,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        ...(options.paced ? { paced: true } : {}),
        label: 'raw',
      }),
    );
    assertClean('raw', load);
    return load;
  } finally {
    await server?.stop();
    await database.drop();
  }
}

/** A load's result with what each request cost in CPU: the server process's and its database backends'. */
interface CpuCosted extends LoadResult {
  serverCpuMs: number;
  postgresCpuMs: number;
}

/**
 * Runs `load` and reads the CPU its server and that server's Postgres backends used meanwhile. Unlike
 * requests per second, CPU per request hardly moves with what else the machine is doing, so it tells a
 * costlier request from a busier machine when the throughput ratio alone cannot.
 */
async function withCpu(
  server: Spawned,
  database: string,
  load: () => Promise<LoadResult>,
): Promise<CpuCosted> {
  const [server0, postgres0] = [server.cpuSeconds(), await databaseCpuSeconds(database)];
  const result = await load();
  const [server1, postgres1] = [server.cpuSeconds(), await databaseCpuSeconds(database)];
  const per = (seconds: number) => (seconds * 1000) / Math.max(result.requests, 1);
  return {
    ...result,
    serverCpuMs: per(server1 - server0),
    postgresCpuMs: per(databaseCpuSpent(postgres0, postgres1)),
  };
}

function cpuNote(load: CpuCosted): string {
  return `; CPU per request ${round(load.serverCpuMs, 3)} ms server + ${round(load.postgresCpuMs, 3)} ms Postgres`;
}

export function assertClean(name: string, load: { non2xx: number; errors: number; requests: number }) {
  if (load.non2xx > 0 || load.errors > 0) {
    throw new Error(
      `${name}: ${load.non2xx} non-2xx answers and ${load.errors} errors in ${load.requests} requests`,
    );
  }
}

export async function createMeeting(base: string, slug: string, capacity: number): Promise<string> {
  const start = new Date(Date.now() + 30 * 24 * 3600_000);
  start.setUTCHours(12, 0, 0, 0);
  const end = new Date(start.getTime() + 4 * 3600_000);
  const headers = adminHeaders();
  const res = await fetch(`${base}/admin/meetings`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      title: `Benchmark ${slug}`,
      slug: `bench-${slug}`,
      startsAt: start.toISOString(),
      endsAt: end.toISOString(),
      venue: { name: 'Benchmarkzaal', address: 'Voorbeeldstraat 1, Den Haag' },
      capacity,
    }),
  });
  if (!res.ok) throw new Error(`creating a meeting failed: ${res.status} ${await res.text()}`);
  const meeting = (await res.json()) as { id?: string; meetingId?: string };
  const id = meeting.id ?? meeting.meetingId!;
  const published = await fetch(`${base}/admin/meetings/${id}/publish`, {
    method: 'POST',
    headers,
    body: '{}',
  });
  if (!published.ok)
    throw new Error(`publishing a meeting failed: ${published.status} ${await published.text()}`);
  return id;
}
