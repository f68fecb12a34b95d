import { createTestDatabase, uniqueName } from '@citydeals/testkit';
import pg from 'pg';
import { runLoad } from '../processes.ts';
import { type BenchRow, round } from '../report.ts';
import { type RunningService, removeNamespace, startService, stopService } from '../services.ts';
import { assertClean, createMeeting, DURATION_SECONDS } from './registration.scenario.ts';

const MEETINGS = 50;
/** Well below what the service answers, so the p99 is the read's own time, not queueing. */
const RATE = 50;

/**
 * `GET /meetings` p99 with 100 and with 100 000 registrations over the same 50 upcoming meetings, in one
 * fresh database and one service process: does the public list grow with the registrations it summarises?
 */
export async function meetingsListScenario(): Promise<BenchRow> {
  const database = await createTestDatabase('cd_bench_list');
  const ns = uniqueName('blist');
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  let service: RunningService | undefined;
  try {
    service = await startService('registration', { DATABASE_URL: database.url, EVENT_NAMESPACE: ns });
    const meetings = await Promise.all(
      Array.from({ length: MEETINGS }, (_, i) => createMeeting(service!.base, `list-${i}`, 5_000)),
    );
    const measure = async (label: string) => {
      const load = await runLoad({
        url: service!.base,
        meetingIds: meetings,
        connections: 4,
        durationSeconds: Math.min(DURATION_SECONDS, 8),
        overallRate: RATE,
        get: { path: '/meetings', headers: {} },
        label,
      });
      assertClean(label, load);
      return load;
    };
    await seedRegistrations(pool, meetings, 100);
    const small = await measure('list-small');
    await seedRegistrations(pool, meetings, 100_000 - 100);
    const large = await measure('list-large');
    const figure = (load: typeof small, existing: string) => ({
      label: `${existing} registrations over ${MEETINGS} meetings, ${load.requests} GETs at ${RATE} req/s`,
      value: load.p99,
      unit: 'ms p99',
      p50: load.p50,
      p99: load.p99,
    });
    return {
      scenario: 'GET /meetings p99 with 100 vs 100 000 registrations',
      system: figure(large, '100 000'),
      raw: figure(small, '100'),
      ratio: round(large.p99 / small.p99, 2),
      goal: '≤ 1.2',
      note: 'ratio = p99 at 100 000 / p99 at 100; rows seeded with SQL, seat counters kept as the service keeps them',
    };
  } finally {
    await stopService(service, 'meetings list');
    await pool.end();
    await removeNamespace(ns).catch(() => {});
    await database.drop();
  }
}

/** `count` confirmed registrations spread over the meetings, with the meetings' seat counters to match. */
async function seedRegistrations(pool: pg.Pool, meetings: string[], count: number): Promise<void> {
  const batch = uniqueName('l');
  await pool.query(
    `insert into registration.registration (id, meeting_id, version, status, name, email, email_key, organisation,
       role, consent_photo, consent_attendee_list, language, token_hash, created_at, updated_at, confirmed_at)
     select gen_random_uuid(), ($1::uuid[])[1 + r % cardinality($1::uuid[])], 1, 'confirmed', 'Deelnemer ' || r,
       $2 || '-' || r || '@example.org', $2 || '-' || r || '@example.org', 'Gemeente Voorbeeld', 'partner', false,
       true, 'nl', encode(sha256(gen_random_uuid()::text::bytea), 'hex'), now(), now(), now()
     from generate_series(1, $3::int) as r`,
    [meetings, batch, count],
  );
  await pool.query(
    `update registration.meeting m set seats_taken = c.taken
     from (select meeting_id, count(*)::int as taken from registration.registration group by meeting_id) c
     where c.meeting_id = m.id`,
  );
  await pool.query('vacuum (analyze) registration.meeting, registration.registration');
  await pool.query('checkpoint');
}
