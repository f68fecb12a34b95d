/**
 * The seats module against real Postgres: the registering statement (`takeSeats`, the capacity rule in SQL)
 * decides as `decideSeat` does, the counters follow every status change, promotion and capacity change
 * under concurrency, and the seat queue shares statements.
 */
import { attendeeRegistered, attendeeWaitlisted } from '@citydeals/contracts';
import fc from 'fast-check';
import { sql } from 'kysely';
import t from 'tap';
import { createServiceContext } from '../../src/context.ts';
import { eraseExpired } from '../../src/privacy/erasure.service.ts';
import { seatEvents } from '../../src/seats/seat.events.ts';
import { takeSeats } from '../../src/seats/seat.repository.ts';
import { decideSeat } from '../../src/seats/seat.rules.ts';
import { SeatQueue } from '../../src/seats/seat-queue.ts';
import {
  adminHeaders,
  createMeeting,
  person,
  registerPerson,
  startRegistration,
  TestClock,
} from '../harness.ts';

// The meetings of meetingBody start 2027-03-11; registration is open until then.
const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const svc = ctx.service;
const { http } = svc;

interface Seats {
  capacity: number;
  counters: { seatsTaken: number; waitlistLength: number };
  counted: { seatsTaken: number; waitlistLength: number };
}

/** The meeting's counters next to the counts of its registrations. */
async function seatsOf(meetingId: string): Promise<Seats> {
  const { rows } = await sql<{
    capacity: number;
    seats_taken: number;
    waitlist_length: number;
    taken: number;
    waiting: number;
  }>`select m.capacity, m.seats_taken, m.waitlist_length,
      (select count(*)::int from registration r
        where r.meeting_id = m.id and r.status in ('confirmed', 'checked_in', 'no_show')) as taken,
      (select count(*)::int from registration r where r.meeting_id = m.id and r.status = 'waitlisted') as waiting
    from meeting m where m.id = ${meetingId}`.execute(svc.runtime.db);
  const row = rows[0]!;
  return {
    capacity: row.capacity,
    counters: { seatsTaken: row.seats_taken, waitlistLength: row.waitlist_length },
    counted: { seatsTaken: row.taken, waitlistLength: row.waiting },
  };
}

async function registrationIds(meetingId: string): Promise<string[]> {
  const rows = await svc.runtime.db
    .selectFrom('registration')
    .select('id')
    .where('meeting_id', '=', meetingId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.id);
}

/**
 * A registration as the service hands it to the registering statement: with its two possible events, or,
 * `expected` a decision, with that decision's event only (and the way to build both).
 */
function newEntry(email: string, expected?: 'confirmed' | 'waitlisted') {
  const row = {
    id: crypto.randomUUID(),
    name: 'Deelnemer',
    email,
    email_key: email,
    organisation: null,
    role: 'partner',
    deal_id: null,
    dietary_needs: null,
    accessibility_needs: null,
    consent_photo: false,
    consent_attendee_list: false,
    language: 'nl' as const,
    token_hash: null,
    created_at: clock.now(),
  };
  const eventsOf = (decision?: 'confirmed' | 'waitlisted') =>
    seatEvents(
      { newId: () => crypto.randomUUID() },
      crypto.randomUUID(),
      row,
      'https://cop.example.org/m',
      decision,
    );
  return {
    row,
    events: eventsOf(expected),
    ...(expected ? { expected, everyEvent: () => eventsOf() } : {}),
  };
}

/** The events the outbox holds about registration `id`, each parsed by its contract. */
async function eventsAbout(id: string) {
  const rows = await svc.runtime.db
    .selectFrom('outbox')
    .select(['subject', 'payload'])
    .where('subject', 'like', `registration.attendee.%.${id}`)
    .execute();
  return rows.map((e) => {
    const payload = typeof e.payload === 'string' ? JSON.parse(e.payload) : e.payload;
    const { type, data } = (
      payload.type === attendeeRegistered.type ? attendeeRegistered : attendeeWaitlisted
    ).schema.parse(payload);
    return { type, status: data.status, position: data.position };
  });
}

/** Entries as the seat queue hands them to the registering statement, all for one meeting version. */
function into(
  meetingId: string,
  meetingVersion: number,
  entries: ReturnType<typeof newEntry>[],
  questionsVersion = 0,
) {
  return entries.map((e) => ({ meetingId, meetingVersion, questionsVersion, ...e }));
}

const post = (url: string, payload?: unknown) =>
  http.inject({ method: 'POST', url, headers: adminHeaders, ...(payload ? { payload } : {}) });

t.test('the registering statement decides as decideSeat does, for every counter combination', async (t) => {
  let checked = 0;
  for (const capacity of [1, 2, 3]) {
    for (let seatsTaken = 0; seatsTaken <= capacity + 1; seatsTaken += 1) {
      for (const [waitlistLength, seatsOffered] of [
        [0, 0],
        [1, 0],
        [2, 0],
        // Waiting people who each hold a seat by an open offer (offers/), or some of them.
        [1, 1],
        [2, 1],
        [2, 2],
      ] as const) {
        const meeting = await createMeeting(svc, { capacity });
        // Counters set by hand: the statement must decide on them alone, whatever the rows say.
        await svc.runtime.db
          .updateTable('meeting')
          .set({ seats_taken: seatsTaken, waitlist_length: waitlistLength, seats_offered: seatsOffered })
          .where('id', '=', meeting.id)
          .execute();
        const res = await registerPerson(svc, meeting.id, person(checked));
        const expected = decideSeat({ capacity, seatsTaken, waitlistLength, seatsOffered });
        t.same(
          { status: res.json().status, position: res.json().position },
          expected,
          `capacity ${capacity}, ${seatsTaken} seated, ${waitlistLength} waiting, ${seatsOffered} holding offers`,
        );
        const after = (await seatsOf(meeting.id)).counters;
        t.same(after, {
          seatsTaken: seatsTaken + (expected.status === 'confirmed' ? 1 : 0),
          waitlistLength: waitlistLength + (expected.status === 'waitlisted' ? 1 : 0),
        });
        checked += 1;
      }
    }
  }
  t.ok(checked > 60);
});

t.test('a registration into a meeting changed meanwhile is decided on the new version', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1 });
  // Concurrent edits bump the version between the registration's read and its write; each registration
  // either lands on the version it read or reads again, never writes against a stale window.
  const edits = Array.from({ length: 5 }, (_, i) =>
    http.inject({
      method: 'PATCH',
      url: `/admin/meetings/${meeting.id}`,
      headers: adminHeaders,
      payload: { title: `Titel ${i}` },
    }),
  );
  const registrations = Array.from({ length: 6 }, (_, i) => registerPerson(svc, meeting.id, person(100 + i)));
  const results = await Promise.all([...edits, ...registrations]);
  t.ok(
    results.every((r) => r.statusCode < 300),
    'every edit and registration succeeded',
  );
  const answers = results.slice(5).map((r) => r.json());
  t.same(answers.map((a) => a.status).sort(), ['confirmed', ...Array(5).fill('waitlisted')]);
  t.same(
    answers
      .map((a) => a.position)
      .filter((p) => p !== null)
      .sort(),
    [1, 2, 3, 4, 5],
  );
  const seats = await seatsOf(meeting.id);
  t.same(seats.counters, seats.counted);

  const { version: current } = await svc.runtime.db
    .selectFrom('meeting')
    .select('version')
    .where('id', '=', meeting.id)
    .executeTakeFirstOrThrow();
  const stale = await takeSeats(
    svc.runtime.db,
    into(meeting.id, current - 1, [newEntry('te.laat@example.org')]),
  );
  t.same(stale, [undefined], 'a write against an older version of the meeting writes nothing');
  const otherQuestions = await takeSeats(
    svc.runtime.db,
    into(meeting.id, current, [newEntry('andere.vragen@example.org')], 1),
  );
  t.same(
    otherQuestions,
    [undefined],
    'a write checked against other questions of the meeting writes nothing',
  );
  t.same(await seatsOf(meeting.id), seats);
  t.equal((await registrationIds(meeting.id)).length, 6);

  const cancelled = await post(`/admin/meetings/${meeting.id}/cancel`, { reason: 'Zaal dicht' });
  t.equal(cancelled.statusCode, 200);
  const late = await registerPerson(svc, meeting.id, person(120));
  t.equal(late.statusCode, 409, 'a cancelled meeting takes nobody');
  t.same((await seatsOf(meeting.id)).counters, seats.counters, 'and its counters did not move');
});

t.test(
  'counters equal the counted registrations after any mix of registrations, cancellations, capacity changes, check-ins, erasures and retention',
  async (t) => {
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('register' as const), email: fc.nat(11) }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('burst' as const),
          emails: fc.array(fc.nat(11), { minLength: 2, maxLength: 6 }),
          cancels: fc.array(fc.nat(), { maxLength: 3 }),
          capacity: fc.option(fc.integer({ min: 1, max: 6 })),
        }),
      },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('capacity' as const),
          capacity: fc.integer({ min: 1, max: 6 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('check-in' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('erase' as const), email: fc.nat(11) }) },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(op, { maxLength: 40 }),
        async (capacity, ops) => {
          run += 1;
          const meeting = await createMeeting(svc, { capacity });
          const email = (n: number) => `run${run}-p${n}@example.org`;
          const pick = async (n: number) => {
            const ids = await registrationIds(meeting.id);
            return ids.length === 0 ? undefined : ids[n % ids.length];
          };
          const cancel = async (n: number) => {
            const id = await pick(n);
            if (id) await post(`/admin/registrations/${id}/cancel`);
          };
          for (const o of ops) {
            if (o.kind === 'register') {
              const before = await seatsOf(meeting.id);
              const res = await registerPerson(svc, meeting.id, person(o.email, { email: email(o.email) }));
              if (res.statusCode === 201) {
                const expected = decideSeat({
                  capacity: before.capacity,
                  seatsTaken: before.counted.seatsTaken,
                  waitlistLength: before.counted.waitlistLength,
                });
                if (res.json().status !== expected.status || res.json().position !== expected.position) {
                  return false;
                }
              } else if (res.statusCode !== 200) return false;
            } else if (o.kind === 'burst') {
              await Promise.all([
                ...o.emails.map((n) => registerPerson(svc, meeting.id, person(n, { email: email(n) }))),
                ...o.cancels.map(cancel),
                ...(o.capacity
                  ? [
                      http.inject({
                        method: 'PUT',
                        url: `/admin/meetings/${meeting.id}/capacity`,
                        headers: adminHeaders,
                        payload: { capacity: o.capacity },
                      }),
                    ]
                  : []),
              ]);
            } else if (o.kind === 'cancel') {
              await cancel(o.pick);
            } else if (o.kind === 'capacity') {
              await http.inject({
                method: 'PUT',
                url: `/admin/meetings/${meeting.id}/capacity`,
                headers: adminHeaders,
                payload: { capacity: o.capacity },
              });
            } else if (o.kind === 'check-in') {
              const id = await pick(o.pick);
              if (id) await post(`/admin/registrations/${id}/check-in`);
            } else {
              await post('/admin/erasures', { email: email(o.email) });
            }
            const seats = await seatsOf(meeting.id);
            if (seats.counters.seatsTaken !== seats.counted.seatsTaken) return false;
            if (seats.counters.waitlistLength !== seats.counted.waitlistLength) return false;
            // Nobody waits while a seat is free.
            if (seats.counted.waitlistLength > 0 && seats.counted.seatsTaken < seats.capacity) return false;
          }
          return true;
        },
      ),
      { numRuns: 8 },
    );
    t.pass('counters matched the counts after every step of 8 random sequences');

    // After the meeting: no-shows keep their seat, retention anonymises without giving seats up.
    const meeting = await createMeeting(svc, { capacity: 2 });
    const answers = [];
    for (let i = 0; i < 4; i += 1) {
      answers.push((await registerPerson(svc, meeting.id, person(200 + i))).json());
    }
    const ids = answers.map((a) => a.registrationId as string);
    const saved = clock.current;
    clock.current = new Date('2027-03-11T18:00:00Z');
    try {
      t.equal((await post(`/admin/registrations/${ids[0]}/no-show`)).statusCode, 200);
      t.equal((await post(`/admin/registrations/${ids[1]}/check-in`)).statusCode, 200);
      t.equal((await post(`/admin/registrations/${ids[0]}/check-in`)).statusCode, 200, 'a late no-show');
      t.equal((await post(`/admin/registrations/${ids[2]}/cancel`)).statusCode, 200, 'a waiting one cancels');
      t.same((await seatsOf(meeting.id)).counters, { seatsTaken: 2, waitlistLength: 1 });
      t.equal(
        (await post('/admin/erasures', { email: 'deelnemer203@example.org' })).statusCode,
        200,
        'erasing after the meeting keeps the status',
      );
      const erased = await eraseExpired(
        createServiceContext({
          db: svc.runtime.db,
          clock: { now: () => new Date('2029-04-01T00:00:00Z') },
          newId: () => crypto.randomUUID(),
          publicBaseUrl: 'https://cop.example.org',
        }),
        24,
      );
      t.ok(erased >= 3, 'retention anonymised the rest');
      const seats = await seatsOf(meeting.id);
      t.same(seats.counters, seats.counted);
      t.same(seats.counters, { seatsTaken: 2, waitlistLength: 1 });
    } finally {
      clock.current = saved;
    }
  },
);

t.test('a burst into one meeting is decided in one statement, in arrival order', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 3 });
  await registerPerson(svc, meeting.id, person(400));
  const burst = ['a', 'b', 'c', 'd', 'e'].map((n) => newEntry(`burst-${n}@example.org`));
  const decisions = await takeSeats(svc.runtime.db, into(meeting.id, meeting.version, burst));
  t.same(decisions, [
    { status: 'confirmed', position: null },
    { status: 'confirmed', position: null },
    { status: 'waitlisted', position: 1 },
    { status: 'waitlisted', position: 2 },
    { status: 'waitlisted', position: 3 },
  ]);
  const stored = await svc.runtime.db
    .selectFrom('registration')
    .select(['id', 'status'])
    .where('meeting_id', '=', meeting.id)
    .orderBy('seq')
    .execute();
  t.same(
    stored.slice(1).map((r) => r.id),
    burst.map((b) => b.row.id),
    'stored in arrival order',
  );
  const events = await svc.runtime.db
    .selectFrom('outbox')
    .select(['event_id', 'subject', 'payload'])
    .where(
      'event_id',
      'in',
      burst.map((b) => b.events[0]!.eventId),
    )
    .orderBy('id')
    .execute();
  t.same(
    events.map((e) => {
      const payload = typeof e.payload === 'string' ? JSON.parse(e.payload) : e.payload;
      // As stored, each event meets its contract, the position the statement decided included.
      const { data } = (
        payload.type === attendeeRegistered.type ? attendeeRegistered : attendeeWaitlisted
      ).schema.parse(payload);
      return [e.event_id, e.subject, data.status, data.position];
    }),
    burst.map((b, i) => [
      b.events[0]!.eventId,
      // Per registration: events with personal data can be purged by subject on erasure.
      `${i < 2 ? 'registration.attendee.registered' : 'registration.attendee.waitlisted'}.${b.row.id}`,
      i < 2 ? 'confirmed' : 'waitlisted',
      i < 2 ? null : i - 1,
    ]),
    'one event each, in arrival order, meeting its contract, the position filled in',
  );
  const seats = await seatsOf(meeting.id);
  t.same(seats.counters, seats.counted);
  t.same(seats.counters, { seatsTaken: 3, waitlistLength: 3 });

  const again = [newEntry('burst-f@example.org'), newEntry('burst-a@example.org')];
  const spoiled = await takeSeats(svc.runtime.db, into(meeting.id, meeting.version, again)).then(
    () => undefined,
    (err: { constraint?: string }) => err.constraint,
  );
  t.equal(spoiled, 'registration_one_live_per_email', 'an address already registered fails the statement');
  t.same((await seatsOf(meeting.id)).counters, seats.counters, 'and nothing of it is kept');

  // Through the service, the same burst with one address twice: the others still get their places.
  const results = await Promise.all(
    ['g', 'h', 'a', 'i'].map((n) =>
      registerPerson(svc, meeting.id, person(0, { email: `burst-${n}@example.org` })),
    ),
  );
  const answers = results.map((r) => [r.statusCode, r.json().status, r.json().position]);
  t.same(answers[2], [200, null, null], 'the address already there is told nothing about its registration');
  t.same(
    answers
      .filter((_, i) => i !== 2)
      .map((a) => a.join(' '))
      .sort(),
    ['201 waitlisted 4', '201 waitlisted 5', '201 waitlisted 6'],
    'the others their places',
  );
  const after = await seatsOf(meeting.id);
  t.same(after.counters, after.counted);
});

t.test(
  'a registration with the event of one decision only is written only if the statement decides so',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 1 });
    const waiting = newEntry('verwacht.wachtlijst@example.org', 'waitlisted');
    t.same(waiting.events.length, 1, 'one event built');
    t.same(
      await takeSeats(svc.runtime.db, into(meeting.id, meeting.version, [waiting])),
      [undefined],
      'a free seat, but only a waitlisted event: nothing written',
    );
    const both = newEntry('beide@example.org');
    const seated = newEntry('verwacht.plaats@example.org', 'confirmed');
    t.same(
      await takeSeats(svc.runtime.db, into(meeting.id, meeting.version, [both, seated])),
      [undefined, undefined],
      'the second of two for the one seat, with only a confirmed event: nothing of the meeting written',
    );
    t.same(await registrationIds(meeting.id), []);
    t.same((await seatsOf(meeting.id)).counters, { seatsTaken: 0, waitlistLength: 0 });

    const other = await createMeeting(svc, { capacity: 1 });
    const decisions = await takeSeats(svc.runtime.db, [
      ...into(meeting.id, meeting.version, [newEntry('fout.geraden@example.org', 'waitlisted')]),
      ...into(other.id, other.version, [newEntry('goed.geraden@example.org', 'confirmed')]),
    ]);
    t.same(decisions, [undefined, { status: 'confirmed', position: null }], 'other meetings are decided');

    const guess = newEntry('plaats@example.org', 'confirmed');
    t.same(await takeSeats(svc.runtime.db, into(meeting.id, meeting.version, [guess])), [
      { status: 'confirmed', position: null },
    ]);
    t.same(await eventsAbout(guess.row.id), [
      { type: attendeeRegistered.type, status: 'confirmed', position: null },
    ]);
  },
);

t.test(
  'the seat queue decides a registration again, with both events, when its guess was wrong',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 1 });
    const queue = new SeatQueue(svc.runtime.db);
    const free = newEntry('dacht.vol@example.org', 'waitlisted');
    const [seatedAnyway] = into(meeting.id, meeting.version, [free]);
    t.same(await queue.decide(seatedAnyway!), { status: 'confirmed', position: null });
    t.same(await eventsAbout(free.row.id), [
      { type: attendeeRegistered.type, status: 'confirmed', position: null },
    ]);
    const full = [1, 2].map((i) => newEntry(`dacht.plaats.${i}@example.org`, 'confirmed'));
    const answers = await Promise.all(into(meeting.id, meeting.version, full).map((e) => queue.decide(e)));
    t.same(answers, [
      { status: 'waitlisted', position: 1 },
      { status: 'waitlisted', position: 2 },
    ]);
    t.same(
      [await eventsAbout(full[0]!.row.id), await eventsAbout(full[1]!.row.id)],
      [
        [{ type: attendeeWaitlisted.type, status: 'waitlisted', position: 1 }],
        [{ type: attendeeWaitlisted.type, status: 'waitlisted', position: 2 }],
      ],
      'one event each, of the decision made, with the position decided',
    );
    const seats = await seatsOf(meeting.id);
    t.same(seats.counters, seats.counted);

    // Through the service: the meeting read (and kept) when it had a free seat is full now.
    const open = await createMeeting(svc, { capacity: 1 });
    const first = await registerPerson(svc, open.id, person(700));
    const second = await registerPerson(svc, open.id, person(701));
    const third = await registerPerson(svc, open.id, person(702));
    t.same(
      [first, second, third].map((r) => [r.statusCode, r.json().status, r.json().position]),
      [
        [201, 'confirmed', null],
        [201, 'waitlisted', 1],
        [201, 'waitlisted', 2],
      ],
    );
    t.same(await eventsAbout(second.json().registrationId), [
      { type: attendeeWaitlisted.type, status: 'waitlisted', position: 1 },
    ]);
  },
);

t.test('a burst decides as decideSeat applied to each in turn, for every counter combination', async (t) => {
  for (const capacity of [1, 2, 3]) {
    for (let seatsTaken = 0; seatsTaken <= capacity + 1; seatsTaken += 1) {
      for (const waitlistLength of [0, 1]) {
        const meeting = await createMeeting(svc, { capacity });
        await svc.runtime.db
          .updateTable('meeting')
          .set({ seats_taken: seatsTaken, waitlist_length: waitlistLength })
          .where('id', '=', meeting.id)
          .execute();
        const burst = [1, 2, 3].map((i) => newEntry(`turn-${i}-${meeting.id}@example.org`));
        const decisions = await takeSeats(svc.runtime.db, into(meeting.id, meeting.version, burst));
        const expected = [];
        let counters = { seatsTaken, waitlistLength };
        for (const _ of burst) {
          const d = decideSeat({ capacity, ...counters });
          expected.push(d);
          counters =
            d.status === 'confirmed'
              ? { ...counters, seatsTaken: counters.seatsTaken + 1 }
              : { ...counters, waitlistLength: counters.waitlistLength + 1 };
        }
        t.same(decisions, expected, `capacity ${capacity}, ${seatsTaken} seated, ${waitlistLength} waiting`);
        t.same((await seatsOf(meeting.id)).counters, counters);
      }
    }
  }
});

t.test('one statement decides registrations into several meetings, each on its own counters', async (t) => {
  const full = await createMeeting(svc, { capacity: 1 });
  const roomy = await createMeeting(svc, { capacity: 5 });
  const edited = await createMeeting(svc, { capacity: 5 });
  await registerPerson(svc, full.id, person(500));
  const requests = [
    ...into(full.id, full.version, [newEntry('multi-1@example.org')]),
    ...into(roomy.id, roomy.version, [newEntry('multi-2@example.org')]),
    ...into(edited.id, edited.version - 1, [newEntry('multi-3@example.org')]),
    ...into(full.id, full.version, [newEntry('multi-4@example.org')]),
    ...into(roomy.id, roomy.version, [newEntry('multi-5@example.org')]),
  ];
  const decisions = await takeSeats(svc.runtime.db, requests);
  t.same(decisions, [
    { status: 'waitlisted', position: 1 },
    { status: 'confirmed', position: null },
    undefined,
    { status: 'waitlisted', position: 2 },
    { status: 'confirmed', position: null },
  ]);
  t.same((await seatsOf(full.id)).counters, { seatsTaken: 1, waitlistLength: 2 });
  t.same((await seatsOf(roomy.id)).counters, { seatsTaken: 2, waitlistLength: 0 });
  t.same(
    (await seatsOf(edited.id)).counters,
    { seatsTaken: 0, waitlistLength: 0 },
    'a stale meeting is untouched',
  );
  t.same(
    (await registrationIds(full.id)).slice(1),
    [requests[0]!.row.id, requests[3]!.row.id],
    'each meeting keeps arrival order',
  );
  const events = await svc.runtime.db
    .selectFrom('outbox')
    .select(['event_id', 'payload'])
    .where(
      'event_id',
      'in',
      requests.map((r) => r.events[0]!.eventId),
    )
    .execute();
  t.same(
    events.map((e) => e.event_id).sort(),
    [0, 1, 3, 4].map((i) => requests[i]!.events[0]!.eventId).sort(),
    'an event for each decided registration, none for the stale one',
  );
});

t.test(
  'registrations that arrive while a statement runs go together in the next, across meetings',
  async (t) => {
    const blocked = await createMeeting(svc, { capacity: 5 });
    const others = [
      await createMeeting(svc, { capacity: 5 }),
      await createMeeting(svc, { capacity: 1 }),
      await createMeeting(svc, { capacity: 5 }),
    ];
    const queue = new SeatQueue(svc.runtime.db);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Another transaction holds the first meeting's row, so the queue's first statement waits on it.
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = svc.runtime.db.transaction().execute(async (trx) => {
      await sql`select 1 from meeting where id = ${blocked.id} for update`.execute(trx);
      locked();
      await released;
    });
    t.teardown(release);
    await isLocked;
    const first = queue.decide({
      meetingId: blocked.id,
      meetingVersion: blocked.version,
      questionsVersion: 0,
      ...newEntry('group-0@example.org'),
    });
    for (let waited = 0; ; waited += 1) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(svc.runtime.db);
      if (rows[0]!.n > 0) break;
      if (waited > 200) throw new Error('the first statement never waited for the lock');
      await new Promise((r) => setTimeout(r, 25));
    }
    const later = [0, 1, 2, 0, 1, 2].map((m, i) => {
      const meeting = others[m]!;
      return {
        meetingId: meeting.id,
        meetingVersion: meeting.version,
        questionsVersion: 0,
        ...newEntry(`group-${i + 1}@example.org`),
      };
    });
    const stale = {
      meetingId: others[0]!.id,
      meetingVersion: others[0]!.version + 1,
      questionsVersion: 0,
      ...newEntry('group-x@example.org'),
    };
    const decided = [...later, stale].map((r) => queue.decide(r));
    release();
    await holder;
    t.same(await first, { status: 'confirmed', position: null });
    const decisions = await Promise.all(decided);
    t.same(
      decisions.slice(0, 6).map((d) => d?.status),
      ['confirmed', 'confirmed', 'confirmed', 'confirmed', 'waitlisted', 'confirmed'],
    );
    t.equal(
      decisions[6],
      undefined,
      'a registration read on another version of a meeting is not decided on this one',
    );
    const { rows } = await sql<{ id: string; tx: string }>`select id, xmin::text as tx from registration
    where id = any(${[...later.map((r) => r.row.id)]}::uuid[])
       or id = (select id from registration where email = 'group-0@example.org')`.execute(svc.runtime.db);
    const transactions = new Set(rows.filter((r) => later.some((l) => l.row.id === r.id)).map((r) => r.tx));
    t.equal(rows.length, 7);
    t.equal(
      transactions.size,
      1,
      'the six waiting registrations, in three meetings, were written in one transaction',
    );
  },
);

t.test('the migration counts the registrations that existed before the counters', async (t) => {
  const { migrations } = await import('../../src/db/migrations.ts');
  const meeting = await createMeeting(svc, { capacity: 2 });
  for (let i = 0; i < 5; i += 1) await registerPerson(svc, meeting.id, person(300 + i));
  await post(`/admin/registrations/${(await registrationIds(meeting.id))[0]}/cancel`);
  const expected = (await seatsOf(meeting.id)).counted;
  t.same(expected, { seatsTaken: 2, waitlistLength: 2 });
  await svc.runtime.db.transaction().execute(async (trx) => {
    await sql`alter table meeting drop constraint meeting_seat_counters_not_negative,
      drop column seats_taken, drop column waitlist_length`.execute(trx);
    await migrations['0002_meeting_seat_counters']!.up(trx);
  });
  t.same((await seatsOf(meeting.id)).counters, expected);
});
