import { createTestDatabase, uniqueName } from '@citydeals/testkit';
import { Pool } from 'undici';
import { type BenchRow, round, throughputRatio } from '../report.ts';
import {
  adminHeaders,
  type RunningService,
  removeNamespace,
  startService,
  stopService,
} from '../services.ts';
import { createMeeting, rawBaseline } from './registration.scenario.ts';

const BURST = 500;
const BURSTS = 5;
const CONNECTIONS = 16;

/**
 * A burst of 500 registrations that choose sessions (a workshop or two of a meeting, each with its own
 * places and waitlist), sent at once over the registration rows' 16 connections, against the raw fastify
 * POST + one INSERT of the same run. Beside it the same burst choosing none, into the same service, so the
 * price of the sessions is read off one run. Each figure is the median of five bursts, each into a meeting of
 * its own; a burst is too short for one to be a figure.
 */
export async function sessionsScenario(): Promise<BenchRow[]> {
  const raw = await rawBaseline();
  const database = await createTestDatabase('cd_bench');
  const namespace = uniqueName('bench');
  let service: RunningService | undefined;
  try {
    service = await startService('registration', { DATABASE_URL: database.url, EVENT_NAMESPACE: namespace });
    const base = service.base;
    const plain = [];
    const chosen = [];
    for (let i = 0; i < BURSTS; i += 1) {
      plain.push(await burst(base, `plain-${i}`, false));
      chosen.push(await burst(base, `sessions-${i}`, true));
    }
    const rawFigure = {
      label: 'fastify POST + one pg INSERT',
      value: round(raw.rps, 0),
      unit: 'req/s',
      p50: raw.p50,
      p99: raw.p99,
    };
    const figure = (runs: BurstResult[], label: string) => {
      const median = [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
      return { label, value: round(median.rps, 0), unit: 'req/s', p50: median.p50, p99: median.p99 };
    };
    const sessionsFigure = figure(
      chosen,
      `${BURSTS} bursts of ${BURST}, each choosing 1–2 of 3 sessions (median burst)`,
    );
    const plainFigure = figure(plain, `${BURSTS} bursts of ${BURST}, no sessions (median burst)`);
    return [
      {
        scenario: 'a burst of 500 registrations choosing sessions',
        system: sessionsFigure,
        raw: rawFigure,
        ratio: throughputRatio(sessionsFigure, rawFigure),
        goal: '≥ 0.5',
        note: `the same burst without sessions, same service and run: ${plainFigure.value} req/s (ratio ${throughputRatio(plainFigure, rawFigure)})`,
      },
    ];
  } finally {
    await stopService(service, 'sessions');
    await removeNamespace(namespace).catch(() => {});
    await database.drop();
  }
}

interface BurstResult {
  rps: number;
  p50: number;
  p99: number;
}

/** One burst into a meeting of its own with three sessions (two in one time slot), seats for everyone. */
async function burst(base: string, slug: string, withSessions: boolean): Promise<BurstResult> {
  const meetingId = await createMeeting(base, slug, BURST + 100);
  const meeting = (await (
    await fetch(`${base}/admin/meetings/${meetingId}`, { headers: adminHeaders() })
  ).json()) as {
    startsAt: string;
  };
  const at = (hours: number) =>
    new Date(new Date(meeting.startsAt).getTime() + hours * 3600_000).toISOString();
  // Small sessions on purpose: most choosers land on a waitlist, which is the contended path.
  const sessions: string[] = [];
  for (const [title, from, to, capacity] of [
    ['Ontwerpsessie', 1, 2, 60],
    ['Kennissessie', 1, 2, 60],
    ['Borrelgesprek', 2, 3, 120],
  ] as const) {
    const res = await fetch(`${base}/admin/meetings/${meetingId}/sessions`, {
      method: 'POST',
      headers: adminHeaders(),
      body: JSON.stringify({ title, startsAt: at(from), endsAt: at(to), capacity }),
    });
    if (res.status !== 201) throw new Error(`creating a session failed: ${res.status} ${await res.text()}`);
    sessions.push(((await res.json()) as { id: string }).id);
  }
  const pool = new Pool(base, { connections: CONNECTIONS, pipelining: 1 });
  const latencies: number[] = [];
  let failed = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: BURST }, async (_, i) => {
      const sessionIds = withSessions
        ? i % 2 === 0
          ? [sessions[i % 4 === 0 ? 0 : 1]!, sessions[2]!]
          : [sessions[2]!]
        : [];
      const sent = performance.now();
      const res = await pool.request({
        method: 'POST',
        path: `/meetings/${meetingId}/registrations`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `Deelnemer ${i}`,
          email: `${slug}-${i}@example.org`,
          organisation: 'Gemeente Voorbeeld',
          role: 'partner',
          sessionIds,
        }),
      });
      await res.body.dump();
      latencies.push(performance.now() - sent);
      if (res.statusCode !== 201) failed += 1;
    }),
  );
  const elapsed = performance.now() - startedAt;
  await pool.close();
  if (failed > 0) throw new Error(`${slug}: ${failed} of ${BURST} registrations not answered 201`);
  latencies.sort((a, b) => a - b);
  const pct = (q: number) =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!, 0);
  return { rps: (BURST * 1000) / elapsed, p50: pct(0.5), p99: pct(0.99) };
}
