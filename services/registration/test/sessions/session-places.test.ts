/**
 * Session places under concurrency and over random histories, against real Postgres: never more places given
 * than a session has, counters equal to the choices, the waitlist served first come, first served, and every
 * choice decided as `decidePlace` says.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import t from 'tap';
import { decidePlace } from '../../src/sessions/session.rules.ts';
import {
  adminHeaders,
  createMeeting,
  person,
  registerPerson,
  startRegistration,
  TestClock,
} from '../harness.ts';
import {
  choicesOf,
  chooseSessions,
  createSession,
  misplacedChoices,
  placesOf,
  tokenOf,
} from './session-harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const svc = ctx.service;
const { http } = svc;

/** Registrations of a meeting in arrival order, with their status. */
async function registrationsOf(meetingId: string) {
  return svc.runtime.db
    .selectFrom('registration')
    .select(['id', 'status'])
    .where('meeting_id', '=', meetingId)
    .orderBy('seq')
    .execute();
}

/** How a registration stands in a session: placed, waitlisted, pending or null (not chosen). */
async function statusIn(sessionId: string, registrationId: string) {
  const row = await svc.runtime.db
    .selectFrom('session_choice')
    .select('status')
    .where('session_id', '=', sessionId)
    .where('registration_id', '=', registrationId)
    .executeTakeFirst();
  return row?.status ?? null;
}

/** A session's active choices in serving order (places were given in this order, the rest wait in it). */
async function servingOrder(sessionId: string): Promise<string[]> {
  const rows = await svc.runtime.db
    .selectFrom('session_choice')
    .select('registration_id')
    .where('session_id', '=', sessionId)
    .where('status', 'in', ['placed', 'waitlisted'])
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.registration_id);
}

const cancel = (manageUrl: string) =>
  http.inject({ method: 'POST', url: `/registrations/manage/${tokenOf(manageUrl)}/cancel` });

t.test(
  'parallel registrations and choices against a small session: never over capacity, served in order',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 30 });
    const small = await createSession(svc, meeting.id, { capacity: 3 });
    const later = await createSession(svc, meeting.id, {
      capacity: 2,
      startsAt: '2027-03-11T15:00',
      endsAt: '2027-03-11T16:00',
    });
    // Already registered without sessions: they choose on the manage page while the burst registers.
    const early = [];
    for (let i = 0; i < 8; i += 1) {
      early.push(
        (await registerPerson(svc, meeting.id, person(i, { email: `early${i}@example.org` }))).json(),
      );
    }
    const burst = Array.from({ length: 40 }, (_, i) =>
      registerPerson(
        svc,
        meeting.id,
        person(100 + i, {
          email: `burst${i}@example.org`,
          sessionIds: i % 3 === 0 ? [small.id, later.id] : [small.id],
        }),
      ),
    );
    const changes = early.map((r, i) =>
      chooseSessions(svc, tokenOf(r.manageUrl), i % 2 === 0 ? [small.id] : [small.id, later.id]),
    );
    const answers = await Promise.all([...burst, ...changes]);
    t.same(
      answers.map((a) => a.statusCode).sort(),
      [...Array(40).fill(201), ...Array(8).fill(200)].sort(),
      'every registration and choice answered, none refused for a full session',
    );
    for (const id of [small.id, later.id]) {
      const places = await placesOf(svc, id);
      t.same(places.counters, places.counted, 'counters equal the choices');
      t.equal(places.counted.placesTaken, places.capacity, 'full, and never over capacity');
    }
    t.same(await misplacedChoices(svc, meeting.id), [], 'only seat holders hold or wait for places');

    // Choices made with the registration are served in the order the registrations were decided.
    const registrations = await registrationsOf(meeting.id);
    const burstIds = new Set(answers.slice(0, 40).map((a) => a.json().registrationId as string));
    const seatedBurst = registrations
      .filter((r) => burstIds.has(r.id) && r.status === 'confirmed')
      .map((r) => r.id);
    const order = await servingOrder(small.id);
    t.same(
      order.filter((id) => burstIds.has(id)),
      seatedBurst,
      'the session serves the burst in its arrival order',
    );
    t.equal(order.length, seatedBurst.length + early.length, 'every seated chooser is placed or waits');
    const pending = (await choicesOf(svc, small.id)).pending;
    t.equal(pending.length, 40 + 8 - 30, 'those waiting for a meeting seat keep their choice as pending');

    // Places come free in parallel: people leave the session, cancel, and the capacity rises, all at once.
    const byId = new Map(
      answers.slice(0, 40).map((a) => [a.json().registrationId as string, a.json() as { manageUrl: string }]),
    );
    const leavers = order.slice(0, 2).filter((id) => byId.has(id));
    const cancellers = order.slice(4, 7).filter((id) => byId.has(id));
    const before = order;
    const promotedFromMeeting = registrations
      .filter((r) => r.status === 'waitlisted')
      .slice(0, cancellers.length);
    const freed = await Promise.all([
      ...leavers.map((id) => chooseSessions(svc, tokenOf(byId.get(id)!.manageUrl), [])),
      ...cancellers.map((id) => cancel(byId.get(id)!.manageUrl)),
      http.inject({
        method: 'PATCH',
        url: `/admin/meetings/${meeting.id}/sessions/${small.id}`,
        headers: adminHeaders,
        payload: { capacity: 4 },
      }),
    ]);
    t.ok(
      freed.every((r) => r.statusCode === 200),
      'every change answered',
    );
    const gone = new Set([...leavers, ...cancellers]);
    // Those promoted into the meeting queue for the session at its end, in the meeting's waiting order.
    const expected = [
      ...before.filter((id) => !gone.has(id)),
      ...promotedFromMeeting.map((r) => r.id).filter((id) => burstIds.has(id)),
    ];
    const after = await servingOrder(small.id);
    t.same(after, expected, 'nobody overtook anyone');
    const now = await choicesOf(svc, small.id);
    t.same(now.placed, expected.slice(0, 4), 'the longest-waiting got the places');
    t.same(now.waiting, expected.slice(4));
    const places = await placesOf(svc, small.id);
    t.same(places.counters, places.counted);
    t.same(await misplacedChoices(svc, meeting.id), []);
  },
);

t.test(
  'counters, places and waitlists stay right after any mix of choices, cancellations and capacity changes',
  async (t) => {
    // Three sessions: `b` follows `a`; `c` is at the same time as `a`, so nobody may hold both.
    const op = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('register' as const),
          who: fc.nat(9),
          pick: fc.subarray([0, 1, 2]),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('choose' as const),
          who: fc.nat(),
          pick: fc.subarray([0, 1, 2]),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('burst' as const),
          who: fc.array(fc.nat(9), { minLength: 2, maxLength: 5 }),
          cancels: fc.array(fc.nat(), { maxLength: 2 }),
          session: fc.nat(2),
          capacity: fc.option(fc.integer({ min: 1, max: 4 })),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), who: fc.nat() }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('session-capacity' as const),
          session: fc.nat(2),
          capacity: fc.integer({ min: 1, max: 4 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('meeting-capacity' as const),
          capacity: fc.integer({ min: 1, max: 6 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('erase' as const), who: fc.nat(9) }) },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(op, { maxLength: 30 }),
        async (capacity, ops) => {
          run += 1;
          const meeting = await createMeeting(svc, { capacity });
          const sessions = [
            await createSession(svc, meeting.id, { capacity: 1 + (run % 3) }),
            await createSession(svc, meeting.id, {
              capacity: 2,
              startsAt: '2027-03-11T15:00',
              endsAt: '2027-03-11T16:00',
            }),
            await createSession(svc, meeting.id, {
              capacity: 1,
              startsAt: '2027-03-11T14:30',
              endsAt: '2027-03-11T15:00',
            }),
          ];
          const ids = sessions.map((s) => s.id);
          const email = (n: number) => `places${run}-${n}@example.org`;
          const links = new Map<string, string>();
          const clash = (pick: number[]) => pick.includes(0) && pick.includes(2);
          const live = async () =>
            (await registrationsOf(meeting.id)).filter(
              (r) => r.status === 'confirmed' || r.status === 'waitlisted',
            );
          const pickLive = async (n: number) => {
            const rows = (await live()).filter((r) => links.has(r.id));
            return rows.length === 0 ? undefined : rows[n % rows.length]!;
          };
          const setCapacity = (session: number, c: number) =>
            http.inject({
              method: 'PATCH',
              url: `/admin/meetings/${meeting.id}/sessions/${ids[session]}`,
              headers: adminHeaders,
              payload: { capacity: c },
            });
          const register = async (who: number, pick: number[]) => {
            const res = await registerPerson(
              svc,
              meeting.id,
              person(who, { email: email(who), sessionIds: pick.map((i) => ids[i]) }),
            );
            if (res.statusCode === 201) links.set(res.json().registrationId, res.json().manageUrl);
            if (res.statusCode === 200) {
              // Registering again mails the address a fresh link: the one the test holds stops working.
              const again = await svc.runtime.db
                .selectFrom('registration')
                .select('id')
                .where('meeting_id', '=', meeting.id)
                .where('email_key', '=', email(who))
                .execute();
              for (const r of again) links.delete(r.id);
            }
            return res;
          };
          for (const o of ops) {
            const before = await Promise.all(ids.map((id) => placesOf(svc, id)));
            if (o.kind === 'register' || o.kind === 'choose') {
              const target = o.kind === 'choose' ? await pickLive(o.who) : undefined;
              if (o.kind === 'choose' && !target) continue;
              const heldBefore = new Map<number, string | null>();
              if (target) {
                for (const [i, id] of ids.entries()) {
                  const held = await statusIn(id, target.id);
                  if (held !== null) heldBefore.set(i, held);
                }
              }
              const res =
                o.kind === 'register'
                  ? await register(o.who, o.pick)
                  : await chooseSessions(
                      svc,
                      tokenOf(links.get(target!.id)!),
                      o.pick.map((i) => ids[i]),
                    );
              if (clash(o.pick)) {
                if (res.statusCode !== 400) return false;
                continue;
              }
              if (res.statusCode === 200 && o.kind === 'register') continue; // already registered
              if (res.statusCode !== (o.kind === 'register' ? 201 : 200)) return false;
              const registrationId = o.kind === 'register' ? res.json().registrationId : target!.id;
              const status = (await registrationsOf(meeting.id)).find((r) => r.id === registrationId)!.status;
              for (const i of o.pick) {
                const actual = await statusIn(ids[i]!, registrationId);
                // A choice held already stays as it was; a new one is decided as decidePlace says on the counts before.
                const expected = heldBefore.has(i)
                  ? heldBefore.get(i)
                  : status === 'waitlisted'
                    ? 'pending'
                    : decidePlace({
                        capacity: before[i]!.capacity,
                        placesTaken: before[i]!.counted.placesTaken,
                        waitlistLength: before[i]!.counted.waitlistLength,
                      }).status;
                if (actual !== expected) return false;
              }
              for (const i of [0, 1, 2].filter((i) => !o.pick.includes(i))) {
                if ((await statusIn(ids[i]!, registrationId)) !== null) return false;
              }
            } else if (o.kind === 'burst') {
              await Promise.all([
                ...o.who.map((n) => register(n, [o.session])),
                ...o.cancels.map(async (n) => {
                  const r = await pickLive(n);
                  if (r) await cancel(links.get(r.id)!);
                }),
                ...(o.capacity ? [setCapacity(o.session, o.capacity)] : []),
              ]);
            } else if (o.kind === 'cancel') {
              const r = await pickLive(o.who);
              if (r) await cancel(links.get(r.id)!);
            } else if (o.kind === 'session-capacity') {
              if ((await setCapacity(o.session, o.capacity)).statusCode !== 200) return false;
            } else if (o.kind === 'meeting-capacity') {
              await http.inject({
                method: 'PUT',
                url: `/admin/meetings/${meeting.id}/capacity`,
                headers: adminHeaders,
                payload: { capacity: o.capacity },
              });
            } else {
              await http.inject({
                method: 'POST',
                url: '/admin/erasures',
                headers: adminHeaders,
                payload: { email: email(o.who) },
              });
            }
            for (const [i, id] of ids.entries()) {
              const places = await placesOf(svc, id);
              if (JSON.stringify(places.counters) !== JSON.stringify(places.counted)) return false;
              // Nobody waits while a place is free.
              if (places.counted.waitlistLength > 0 && places.counted.placesTaken < places.capacity)
                return false;
              // Places are only ever given up to the capacity; lowering it takes none away. Within a burst
              // the capacity may change before or after a registration takes a place, so the bound is the
              // higher of the capacities the step saw.
              if (
                places.counted.placesTaken >
                Math.max(places.capacity, before[i]!.capacity, before[i]!.counted.placesTaken)
              )
                return false;
            }
            if ((await misplacedChoices(svc, meeting.id)).length > 0) return false;
            const { rows } = await sql<{ n: number }>`select count(*)::int as n from session_choice a
          join session_choice c on c.registration_id = a.registration_id
          where a.session_id = ${ids[0]} and c.session_id = ${ids[2]}`.execute(svc.runtime.db);
            if (rows[0]!.n > 0) return false;
          }
          return true;
        },
      ),
      { numRuns: 10 },
    );
    t.pass('every step of 10 random histories kept the session rules');
  },
);
