import { randomUUID } from 'node:crypto';
import { createTestDatabase, freePort, testServers, uniqueName } from '@citydeals/testkit';
import { repoRoot, runLoad, type Spawned, spawnTs, waitForHttp } from '../processes.ts';
import { type BenchRow, round, throughputRatio } from '../report.ts';

const ADMIN_KEY = `cdk_bench_${randomUUID()}`;
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;

export interface RegistrationBench {
  rows: BenchRow[];
  peakRssMb: number;
}

/**
 * Registrations through the real service (HTTP, validation, seat decision under a meeting lock, token,
 * outbox event) against fastify doing one INSERT per request, both driven by the same load generator.
 */
export async function registrationScenarios(): Promise<RegistrationBench> {
  const raw = await rawBaseline();
  const database = await createTestDatabase('cd_bench');
  const namespace = uniqueName('bench');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let service: Spawned | undefined;
  try {
    service = await spawnTs(
      `${repoRoot}services/registration/src/server.ts`,
      [],
      {
        DATABASE_URL: database.url,
        NATS_URL: testServers.natsUrl,
        EVENT_NAMESPACE: namespace,
        PORT: String(port),
        ADMIN_API_KEY: ADMIN_KEY,
        LOG_LEVEL: 'warn',
        PUBLIC_BASE_URL: 'https://cop.example.org',
      },
      () => true,
    );
    const started = service;
    await waitForHttp(`${base}/health/ready`).catch((err: Error) => {
      throw new Error(`${err.message}\n${started.output().slice(-3000)}`);
    });
    const spread = await Promise.all(
      Array.from({ length: 50 }, (_, i) => createMeeting(base, `spread-${i}`, 100_000)),
    );
    const spreadLoad = await runLoad({
      url: base,
      meetingIds: spread,
      connections: CONNECTIONS,
      durationSeconds: DURATION_SECONDS,
      label: 'spread',
    });
    assertClean('spread', spreadLoad);
    const single = await createMeeting(base, 'single', 2_000);
    const singleLoad = await runLoad({
      url: base,
      meetingIds: [single],
      connections: CONNECTIONS,
      durationSeconds: DURATION_SECONDS,
      label: 'single',
    });
    assertClean('single', singleLoad);

    const rawFigure = {
      label: 'fastify POST + one pg INSERT',
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
    const spreadFigure = figure(spreadLoad, `${spreadLoad.requests} registrations over 50 meetings`);
    const singleFigure = figure(
      singleLoad,
      `${singleLoad.requests} registrations into one meeting (2 000 seats)`,
    );
    return {
      rows: [
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
      ],
      peakRssMb: service.peakRssMb(),
    };
  } finally {
    await service?.stop();
    await database.drop();
  }
}

async function rawBaseline() {
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
    const load = await runLoad({
      url: `http://127.0.0.1:${port}`,
      meetingIds: Array.from({ length: 50 }, () => randomUUID()),
      connections: CONNECTIONS,
      durationSeconds: DURATION_SECONDS,
      label: 'raw',
    });
    assertClean('raw', load);
    return load;
  } finally {
    await server?.stop();
    await database.drop();
  }
}

function assertClean(name: string, load: { non2xx: number; errors: number; requests: number }) {
  if (load.non2xx > 0 || load.errors > 0) {
    throw new Error(
      `${name}: ${load.non2xx} non-2xx answers and ${load.errors} errors in ${load.requests} requests`,
    );
  }
}

async function createMeeting(base: string, slug: string, capacity: number): Promise<string> {
  const start = new Date(Date.now() + 30 * 24 * 3600_000);
  start.setUTCHours(12, 0, 0, 0);
  const end = new Date(start.getTime() + 4 * 3600_000);
  const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
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
