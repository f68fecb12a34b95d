import t from 'tap';
import { decideAdmission } from '../src/admissions/admission.rules.ts';
import { planAttendeeChange } from '../src/attendee-changes/attendee-change.rules.ts';
import { undoCheckInTransition } from '../src/check-ins/check-in.rules.ts';
import { consequencesOf, type MeetingCounts } from '../src/consequences/consequence.rules.ts';

const now = new Date('2027-01-10T10:00:00Z');
const meeting: MeetingCounts = {
  status: 'published',
  capacity: 10,
  startsAt: new Date('2027-03-11T12:00:00Z'),
  endsAt: new Date('2027-03-11T16:00:00Z'),
  seatsTaken: 10,
  seated: 9,
  waitlisted: 4,
};

t.test('consequences of a meeting change', async (t) => {
  t.match(consequencesOf({ change: 'capacity', capacity: 12 }, meeting, now), { promoted: 2, notified: 0 });
  t.match(
    consequencesOf({ change: 'capacity', capacity: 30 }, meeting, now),
    { promoted: 4 },
    'no more than wait',
  );
  t.match(consequencesOf({ change: 'capacity', capacity: 7 }, meeting, now), {
    promoted: 0,
    aboveCapacity: 3,
  });
  t.match(consequencesOf({ change: 'capacity', capacity: 10 }, meeting, now), { unchanged: true });
  t.match(
    consequencesOf({ change: 'capacity', capacity: 12 }, meeting, new Date('2027-03-11T12:30:00Z')),
    { promoted: 0 },
    'nobody is promoted once the meeting has started',
  );
  t.match(consequencesOf({ change: 'capacity', capacity: 12 }, { ...meeting, status: 'draft' }, now), {
    promoted: 0,
  });
  const moved = {
    change: 'reschedule' as const,
    startsAt: new Date('2027-03-18T12:00:00Z'),
    endsAt: meeting.endsAt,
  };
  t.match(consequencesOf(moved, meeting, now), { notified: 9 }, 'the seated (no-shows are not mailed)');
  t.match(
    consequencesOf(
      { change: 'reschedule', startsAt: meeting.startsAt, endsAt: meeting.endsAt },
      meeting,
      now,
    ),
    { unchanged: true, notified: 0 },
  );
  t.match(consequencesOf({ change: 'cancel' }, meeting, now), { notified: 13 }, 'seated and waiting');
  t.match(consequencesOf({ change: 'cancel' }, { ...meeting, status: 'cancelled' }, now), {
    unchanged: true,
  });
  t.match(consequencesOf({ change: 'edit', fields: ['title'] }, meeting, now), { notified: 9 });
  t.match(consequencesOf({ change: 'edit', fields: ['description'] }, meeting, now), { notified: 0 });
  t.match(consequencesOf({ change: 'edit', fields: ['venue'] }, { ...meeting, status: 'draft' }, now), {
    notified: 0,
  });
  t.match(consequencesOf({ change: 'publish' }, meeting, now), { unchanged: true });
  t.match(consequencesOf({ change: 'publish' }, { ...meeting, status: 'draft' }, now), { unchanged: false });
});

t.test('admission by the office', async (t) => {
  const base = {
    status: 'published' as const,
    capacity: 2,
    seatsTaken: 1,
    waitlistLength: 0,
    overCapacity: false,
  };
  t.same(decideAdmission(base), { ok: true, overCapacity: false });
  t.match(decideAdmission({ ...base, seatsTaken: 2 }), { ok: false });
  t.match(decideAdmission({ ...base, waitlistLength: 1 }), { ok: false }, 'nobody waiting is passed over');
  t.same(decideAdmission({ ...base, seatsTaken: 2, overCapacity: true }), { ok: true, overCapacity: true });
  t.match(decideAdmission({ ...base, status: 'cancelled', overCapacity: true }), { ok: false });
});

t.test('undoing a check-in', async (t) => {
  t.same(undoCheckInTransition('checked_in'), { ok: true, changed: true });
  t.same(undoCheckInTransition('confirmed'), { ok: true, changed: false });
  for (const status of ['waitlisted', 'cancelled', 'no_show'] as const) {
    t.match(undoCheckInTransition(status), { ok: false }, status);
  }
});

t.test('correcting or substituting an attendee', async (t) => {
  const current = {
    name: 'Anna',
    email: 'anna@example.org',
    organisation: 'Delft',
    role: 'partner',
    dealId: null,
    status: 'confirmed' as const,
    erased: false,
  };
  t.same(planAttendeeChange(current, { organisation: 'Delft', substitute: false }), { kind: 'none' });
  t.match(planAttendeeChange(current, { name: 'Anna B', organisation: null, substitute: false }), {
    kind: 'details',
    changedFields: ['name', 'organisation'],
  });
  t.match(planAttendeeChange(current, { name: 'Bo', email: 'bo@example.org', substitute: true }), {
    kind: 'substitute',
    next: { name: 'Bo', email: 'bo@example.org', organisation: 'Delft' },
  });
  t.match(planAttendeeChange(current, { name: 'Bo', email: 'ANNA@example.org', substitute: true }), {
    kind: 'refused',
    field: 'email',
  });
  t.match(planAttendeeChange(current, { email: 'bo@example.org', substitute: true }), {
    kind: 'refused',
    field: 'name',
  });
  t.match(
    planAttendeeChange(
      { ...current, status: 'waitlisted' },
      { name: 'Bo', email: 'b@x.org', substitute: true },
    ),
    {
      kind: 'refused',
      status: 409,
    },
  );
  t.match(planAttendeeChange({ ...current, status: 'cancelled' }, { name: 'Bo', substitute: false }), {
    kind: 'refused',
  });
  t.match(planAttendeeChange({ ...current, erased: true }, { name: 'Bo', substitute: false }), {
    kind: 'refused',
  });
});
