/**
 * Waitlist offers under concurrency and random sequences, against real Postgres: cancellations, accepts,
 * declines, new registrations, capacity raises and expiry sweeps at once never give two open offers for
 * one seat, never seat more than the capacity, and keep the counters equal to the rows.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import t from 'tap';
import { createServiceContext } from '../../src/context.ts';
import { expireDueOffers } from '../../src/offers/offer.service.ts';
import { decideSeat } from '../../src/seats/seat.rules.ts';
import {
  adminHeaders,
  createMeeting,
  outboxEvents,
  person,
  registerPerson,
  shortType,
  startRegistration,
  TestClock,
} from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, { OFFER_SWEEP_MS: '3600000' });
t.teardown(() => ctx.close());
const svc = ctx.service;
const { http } = svc;
const db = svc.runtime.db;
const sweepContext = createServiceContext({
  db,
  clock,
  newId: () => crypto.randomUUID(),
  publicBaseUrl: 'https://cop.example.org',
});

const post = (url: string, payload?: unknown) =>
  http.inject({ method: 'POST', url, headers: adminHeaders, ...(payload ? { payload } : {}) });
const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** Every offer's token by offer id, from the events that announced them. */
async function offerTokens(): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const e of await outboxEvents(svc)) {
    if (shortType(e.type) === 'attendee.seat_offered') tokens.set(e.data.offerId, tokenOf(e.data.acceptUrl));
  }
  return tokens;
}

async function openOffers(meetingId: string) {
  return db
    .selectFrom('waitlist_offer')
    .select(['id', 'registration_id'])
    .where('meeting_id', '=', meetingId)
    .where('status', '=', 'open')
    .execute();
}

async function registrations(meetingId: string, status: 'confirmed' | 'waitlisted') {
  return (
    await db
      .selectFrom('registration')
      .select('id')
      .where('meeting_id', '=', meetingId)
      .where('status', '=', status)
      .orderBy('seq')
      .execute()
  ).map((r) => r.id);
}

/** What must hold after any step; the first broken promise, or null. */
async function brokenInvariant(meetingId: string): Promise<string | null> {
  const { rows } = await sql<{
    capacity: number;
    seats_taken: number;
    waitlist_length: number;
    taken: number;
    waiting: number;
    open_offers: number;
    offered_not_waiting: number;
    people_with_two: number;
    seats_offered: number;
  }>`select m.capacity, m.seats_taken, m.waitlist_length, m.seats_offered,
      (select count(*)::int from registration r
        where r.meeting_id = m.id and r.status in ('confirmed', 'checked_in', 'no_show')) as taken,
      (select count(*)::int from registration r where r.meeting_id = m.id and r.status = 'waitlisted') as waiting,
      (select count(*)::int from waitlist_offer o where o.meeting_id = m.id and o.status = 'open') as open_offers,
      (select count(*)::int from waitlist_offer o join registration r on r.id = o.registration_id
        where o.meeting_id = m.id and o.status = 'open' and r.status <> 'waitlisted') as offered_not_waiting,
      (select count(*)::int from (select registration_id from waitlist_offer
        where meeting_id = m.id and status = 'open' group by registration_id having count(*) > 1) x) as people_with_two
    from meeting m where m.id = ${meetingId}`.execute(db);
  const s = rows[0]!;
  if (s.seats_taken !== s.taken || s.waitlist_length !== s.waiting || s.seats_offered !== s.open_offers) {
    return `counters ${JSON.stringify(s)}`;
  }
  if (s.taken > s.capacity) return `over capacity ${JSON.stringify(s)}`;
  if (s.taken + s.open_offers > s.capacity) return `more offers than free seats ${JSON.stringify(s)}`;
  if (s.offered_not_waiting > 0 || s.people_with_two > 0)
    return `offer to the wrong person ${JSON.stringify(s)}`;
  if (s.waiting > s.open_offers && s.taken + s.open_offers < s.capacity) {
    return `a free seat nobody was offered ${JSON.stringify(s)}`;
  }
  return null;
}

t.test(
  'parallel cancellations, accepts, declines and sweeps never double an offer nor overbook',
  async (t) => {
    const capacity = 4;
    const meeting = await createMeeting(svc, { capacity, waitlistPromotion: 'offer', offerHours: 1 });
    for (let i = 0; i < 24; i += 1) {
      t.equal((await registerPerson(svc, meeting.id, person(100 + i))).statusCode, 201);
    }
    let rounds = 0;
    let accepted = 0;
    let expired = 0;
    while ((await registrations(meeting.id, 'waitlisted')).length > 0 && rounds < 30) {
      rounds += 1;
      const confirmed = await registrations(meeting.id, 'confirmed');
      const tokens = await offerTokens();
      const open = (await openOffers(meeting.id)).map((o) => tokens.get(o.id)!);
      const answers = await Promise.all([
        // Two seated people leave, and each open offer is accepted and declined at once by two clicks.
        ...confirmed.slice(0, 2).map((id) => post(`/admin/registrations/${id}/cancel`)),
        ...open.flatMap((token, i) => [
          http.inject({ method: 'POST', url: `/registrations/offers/${token}/accept` }),
          http.inject({
            method: 'POST',
            url: `/registrations/offers/${token}/${i % 2 ? 'accept' : 'decline'}`,
          }),
        ]),
        registerPerson(svc, meeting.id, person(500 + rounds)),
        expireDueOffers(sweepContext),
        expireDueOffers(sweepContext),
      ]);
      for (const a of answers) {
        if (typeof a === 'number') expired += a;
        else if (a.statusCode >= 500) t.fail(`a 500: ${a.body}`);
        else if (a.statusCode === 200 && /"status":"accepted"/.test(a.body)) accepted += 1;
      }
      // Every third round nobody answered in time: the offers run out while cancellations come in.
      if (rounds % 3 === 0) {
        clock.advance(2 * 3600_000);
        const [one, two] = await Promise.all([
          expireDueOffers(sweepContext),
          expireDueOffers(sweepContext),
          ...confirmed.slice(2, 3).map((id) => post(`/admin/registrations/${id}/cancel`)),
        ]);
        expired += Number(one) + Number(two);
      }
      const broken = await brokenInvariant(meeting.id);
      if (broken) {
        t.fail(`round ${rounds}: ${broken}`);
        break;
      }
    }
    t.ok(accepted > 0, `offers were accepted (${accepted})`);
    t.ok(expired > 0, `offers ran out too (${expired})`);
    t.equal(await brokenInvariant(meeting.id), null, `every invariant held through ${rounds} rounds`);
  },
);

t.test('counters, offers and seats stay right after any mix of steps (property)', async (t) => {
  const op = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('register' as const), n: fc.nat(15) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel-waiting' as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('accept' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('decline' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('expire' as const) }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('raise' as const), by: fc.integer({ min: 1, max: 2 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('erase' as const), n: fc.nat(15) }) },
  );
  let run = 0;
  let steps = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }),
      fc.array(op, { minLength: 10, maxLength: 30 }),
      async (capacity, ops) => {
        run += 1;
        const meeting = await createMeeting(svc, { capacity, waitlistPromotion: 'offer', offerHours: 1 });
        const email = (n: number) => `offer-run${run}-p${n}@example.org`;
        let currentCapacity = capacity;
        for (const o of ops) {
          steps += 1;
          if (o.kind === 'register') {
            const before = await sql<{ taken: number; waiting: number; offered: number }>`select
              (select count(*)::int from registration where meeting_id = ${meeting.id}
                and status in ('confirmed', 'checked_in', 'no_show')) as taken,
              (select count(*)::int from registration where meeting_id = ${meeting.id}
                and status = 'waitlisted') as waiting,
              (select count(*)::int from waitlist_offer where meeting_id = ${meeting.id}
                and status = 'open') as offered`.execute(db);
            const res = await registerPerson(svc, meeting.id, person(o.n, { email: email(o.n) }));
            if (res.statusCode === 201) {
              const expected = decideSeat({
                capacity: currentCapacity,
                seatsTaken: before.rows[0]!.taken,
                waitlistLength: before.rows[0]!.waiting,
                seatsOffered: before.rows[0]!.offered,
              });
              if (res.json().status !== expected.status) return false;
            } else if (res.statusCode !== 200) return false;
          } else if (o.kind === 'cancel' || o.kind === 'cancel-waiting') {
            const ids = await registrations(meeting.id, o.kind === 'cancel' ? 'confirmed' : 'waitlisted');
            if (ids.length > 0) await post(`/admin/registrations/${ids[o.pick % ids.length]}/cancel`);
          } else if (o.kind === 'accept' || o.kind === 'decline') {
            const open = await openOffers(meeting.id);
            if (open.length > 0) {
              const token = (await offerTokens()).get(open[o.pick % open.length]!.id)!;
              const res = await http.inject({
                method: 'POST',
                url: `/registrations/offers/${token}/${o.kind}`,
              });
              if (res.statusCode !== 200) return false;
            }
          } else if (o.kind === 'expire') {
            clock.advance(3600_000);
            await expireDueOffers(sweepContext);
            if ((await openOffers(meeting.id)).length > 0 && (await sweepNeeded(meeting.id))) return false;
          } else if (o.kind === 'raise') {
            currentCapacity += o.by;
            const res = await http.inject({
              method: 'PUT',
              url: `/admin/meetings/${meeting.id}/capacity`,
              headers: adminHeaders,
              payload: { capacity: currentCapacity },
            });
            if (res.statusCode !== 200) return false;
          } else {
            await post('/admin/erasures', { email: email(o.n) });
          }
          const broken = await brokenInvariant(meeting.id);
          if (broken) throw new Error(`${o.kind}: ${broken}`);
        }
        return true;
      },
    ),
    { numRuns: 8 },
  );
  t.pass(`every invariant held after each of ${steps} steps of 8 random sequences`);
});

/** Whether an open offer of the meeting is past its time (none should be, right after a sweep). */
async function sweepNeeded(meetingId: string): Promise<boolean> {
  const due = await db
    .selectFrom('waitlist_offer')
    .select('id')
    .where('meeting_id', '=', meetingId)
    .where('status', '=', 'open')
    .where('expires_at', '<=', clock.now())
    .executeTakeFirst();
  return due !== undefined;
}
