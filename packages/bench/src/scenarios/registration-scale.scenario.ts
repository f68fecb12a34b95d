import { createTestDatabase, uniqueName } from '@citydeals/testkit';
import pg from 'pg';
import { runLoad } from '../processes.ts';
import { type BenchRow, round } from '../report.ts';
import { type RunningService, removeNamespace, startService, stopService } from '../services.ts';
import { assertClean, createMeeting, DURATION_SECONDS } from './registration.scenario.ts';

/** Far below what the service sustains, so the p99 is service time, not queueing. */
const RATE = 20;
/** A CoP meeting draws about a hundred people: 100 000 registrations are a thousand past meetings. */
const PER_MEETING = 100;

/**
 * Registration p99 with 100 and with 100 000 registrations already stored, in one fresh database and one
 * service process: does anything in the hot path (seat count, duplicate check, token) grow with the table?
 */
export async function registrationScaleScenario(): Promise<BenchRow> {
  const database = await createTestDatabase('cd_bench_scale');
  const ns = uniqueName('bscale');
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  let service: RunningService | undefined;
  try {
    service = await startService('registration', { DATABASE_URL: database.url, EVENT_NAMESPACE: ns });
    const meetings = await Promise.all(
      Array.from({ length: 10 }, (_, i) => createMeeting(service!.base, `scale-${i}`, 100_000)),
    );
    const measure = async (label: string) => {
      const load = await runLoad({
        url: service!.base,
        meetingIds: meetings,
        connections: 8,
        durationSeconds: Math.min(DURATION_SECONDS, 8),
        overallRate: RATE,
        label,
      });
      assertClean(label, load);
      return load;
    };
    await seedRegistrations(pool, 100);
    const small = await measure('scale-small');
    await seedRegistrations(pool, 100_000 - 100);
    const large = await measure('scale-large');
    const stored = (
      await pool.query<{ n: number }>('select count(*)::int as n from registration.registration')
    ).rows[0]!.n;
    if (stored < 100_000) throw new Error(`only ${stored} registrations stored`);
    const figure = (load: typeof small, existing: string) => ({
      label: `${existing} existing, ${load.requests} new at ${RATE} req/s`,
      value: load.p99,
      unit: 'ms p99',
      p50: load.p50,
      p99: load.p99,
    });
    return {
      scenario: 'registration p99 with 100 vs 100 000 existing registrations',
      system: figure(large, '100 000'),
      raw: figure(small, '100'),
      ratio: round(small.p99 / large.p99, 2),
      goal: '≈ 1 (p99 does not grow with the table)',
      note: 'ratio = p99 at 100 / p99 at 100 000; rows seeded with SQL over past meetings of 100 each',
    };
  } finally {
    await stopService(service, 'registration scale');
    await pool.end();
    await removeNamespace(ns).catch(() => {});
    await database.drop();
  }
}

/**
 * Stores `count` confirmed registrations the way the service does (registration.service.ts: trimmed email,
 * lower-cased email_key, sha256 token hash, confirmed_at) in past meetings of PER_MEETING each, then
 * ANALYZEs as autovacuum would have long since done in production.
 */
async function seedRegistrations(pool: pg.Pool, count: number): Promise<void> {
  const batch = uniqueName('s');
  const meetings = Math.max(1, Math.ceil(count / PER_MEETING));
  await pool.query(
    `insert into registration.meeting (id, version, status, title, slug, starts_at, ends_at, time_zone, venue_name,
       venue_address, capacity, language, agenda, reminder_offsets, ics_sequence, published_at, created_at, updated_at)
     select gen_random_uuid(), 2, 'published', 'Bijeenkomst ' || m, $1 || '-' || m,
       now() - (m || ' days')::interval, now() - (m || ' days')::interval + interval '4 hours', 'Europe/Amsterdam',
       'Zaal', 'Voorbeeldstraat 1, Den Haag', 150, 'nl', '[]'::jsonb, array['P7D','P1D'], 0,
       now() - (m + 30 || ' days')::interval, now() - (m + 40 || ' days')::interval, now() - (m || ' days')::interval
     from generate_series(1, $2::int) as m`,
    [batch, meetings],
  );
  await pool.query(
    `insert into registration.registration (id, meeting_id, version, status, name, email, email_key, organisation,
       role, consent_photo, consent_attendee_list, language, token_hash, created_at, updated_at, confirmed_at)
     select gen_random_uuid(), m.id, 1, 'confirmed', 'Deelnemer ' || r, $1 || '-' || r || '@example.org',
       $1 || '-' || r || '@example.org', 'Gemeente Voorbeeld', 'partner', false, true, 'nl',
       encode(sha256(gen_random_uuid()::text::bytea), 'hex'), m.created_at, m.created_at, m.created_at
     from (select id, created_at, row_number() over () as k from registration.meeting where slug like $1 || '-%') m
     join generate_series(1, $2::int) as r on (r - 1) / $3 + 1 = m.k`,
    [batch, count, PER_MEETING],
  );
  // Vacuumed, analyzed and checkpointed, so the second load does not run into the seed's own aftermath.
  await pool.query('vacuum (analyze) registration.meeting, registration.registration');
  await pool.query('checkpoint');
}
