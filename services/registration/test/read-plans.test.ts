/**
 * Reads and cancellations must not get slower as registrations accumulate. Checked on plans and locks, not on
 * timings: with 20 000 registrations (5 000 of them waiting for one meeting) every statement of a cancellation
 * reads a bounded number of registration rows through an index, and the meeting reads do not touch the
 * registration table at all.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import t from 'tap';
import { createServiceContext } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { cancelRegistration } from '../src/registrations/registration.service.ts';
import {
  adminHeaders,
  createMeeting,
  person,
  registerPerson,
  startRegistration,
  TestClock,
} from './harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const svc = ctx.service;
const { http } = svc;

const CAPACITY = 50;
const target = await createMeeting(svc, { capacity: CAPACITY });
const others = await Promise.all(Array.from({ length: 9 }, () => createMeeting(svc, { capacity: 2_000 })));
// A few through the API, so the seeded rows sit next to real ones.
for (let i = 0; i < 3; i++) {
  const res = await registerPerson(svc, target.id, person(i));
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
}
const db = svc.runtime.db;
// The target meeting: full, with 5 000 waiting; the others share the rest of 20 000 registrations.
await sql`insert into registration (id, meeting_id, version, status, name, email, email_key, role,
    consent_photo, consent_attendee_list, language, created_at, updated_at, confirmed_at)
  select gen_random_uuid(), ${target.id}::uuid, 1, case when g <= ${CAPACITY - 3} then 'confirmed' else 'waitlisted' end,
    'Seed ' || g, 'seed' || g || '@example.org', 'seed' || g || '@example.org', 'projectleider', false, false,
    'nl', now(), now(), now()
  from generate_series(1, ${CAPACITY - 3 + 5_000}) g`.execute(db);
await sql`insert into registration (id, meeting_id, version, status, name, email, email_key, role,
    consent_photo, consent_attendee_list, language, created_at, updated_at, confirmed_at)
  select gen_random_uuid(), (${others.map((m) => m.id)}::uuid[])[1 + g % 9], 1,
    case when g % 7 = 0 then 'cancelled' else 'confirmed' end, 'Other ' || g, 'other' || g || '@example.org',
    'other' || g || '@example.org', 'projectleider', false, false, 'nl', now(), now(), now()
  from generate_series(1, ${15_000}) g`.execute(db);
await sql`update meeting m set seats_taken = c.taken, waitlist_length = c.waiting
  from (select meeting_id,
      count(*) filter (where status in ('confirmed', 'checked_in', 'no_show'))::int as taken,
      count(*) filter (where status = 'waitlisted')::int as waiting
    from registration group by meeting_id) c
  where c.meeting_id = m.id`.execute(db);
await sql`analyze registration`.execute(db);
await sql`analyze meeting`.execute(db);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Plan Rows': number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

t.test('every statement of a cancellation reads a bounded number of registrations by index', async (t) => {
  const statements: { sql: string; parameters: readonly unknown[] }[] = [];
  // On the service's pool, which it keeps: this instance is never destroyed, or it would end that pool.
  const recording = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: svc.runtime.pool }),
    log(event) {
      if (event.level === 'query') statements.push(event.query);
    },
  });
  const seated = await db
    .selectFrom('registration')
    .select('id')
    .where('meeting_id', '=', target.id)
    .where('status', '=', 'confirmed')
    .limit(1)
    .executeTakeFirstOrThrow();
  const result = await cancelRegistration(
    createServiceContext({
      db: recording,
      clock,
      newId: () => crypto.randomUUID(),
      publicBaseUrl: 'https://cop.example.org',
    }),
    seated.id,
    'admin',
  );
  t.equal(result.promoted.length, 1, 'the freed seat went to the first of 5 000 waiting');
  t.equal(result.promoted[0]?.previousPosition, 1);
  const touching = statements.filter((s) => /\bregistration\b/.test(s.sql));
  t.ok(touching.length >= 4, 'the cancellation read and changed registrations');
  for (const statement of touching) {
    const { rows } = await svc.runtime.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `explain (format json) ${statement.sql}`,
      [...statement.parameters],
    );
    const plan = rows[0]!['QUERY PLAN'][0].Plan;
    const scans = nodes(plan).filter((n) => n['Relation Name'] === 'registration');
    t.notOk(
      scans.some((n) => n['Node Type'] === 'Seq Scan'),
      `no sequential scan of registration: ${statement.sql.slice(0, 80)}`,
    );
    t.ok(
      plan['Plan Rows'] <= 100,
      `a bounded number of rows (${plan['Plan Rows']}): ${statement.sql.slice(0, 80)}`,
    );
  }
});

t.test('the meeting reads do not touch the registrations', async (t) => {
  // Holding an exclusive lock on the table: a read that counted registrations would wait for it.
  const locker = await svc.runtime.pool.connect();
  try {
    await locker.query('begin');
    await locker.query('lock table registration in access exclusive mode');
    const within = <T>(p: Promise<T>) =>
      Promise.race([p, new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 5_000))]);
    for (const url of [
      '/meetings',
      `/meetings/${target.id}`,
      '/admin/meetings',
      `/admin/meetings/${target.id}`,
    ]) {
      const res = await within(http.inject({ url, headers: adminHeaders }));
      t.not(res, 'blocked', `${url} answered while registrations were locked`);
      if (res === 'blocked') continue;
      t.equal(res.statusCode, 200, url);
      const body = res.json();
      const meeting = body.items ? body.items.find((m: { id: string }) => m.id === target.id) : body;
      t.same(
        meeting.seats,
        { capacity: CAPACITY, confirmed: CAPACITY, available: 0, waitlisted: 5_000 - 1 },
        url,
      );
    }
    const page = await within(http.inject({ url: `/bijeenkomsten/${target.slug}` }));
    t.not(page, 'blocked', 'the meeting page answered while registrations were locked');
  } finally {
    await locker.query('rollback');
    locker.release();
  }
});
