import t from 'tap';
import { type AttendanceDeal, meetingYear, summariseAttendance } from '../../src/reports/attendance.rules.ts';

const meeting = (id: string, startsAt: string) => ({
  id,
  title: id,
  startsAt: new Date(startsAt),
  timeZone: 'Europe/Amsterdam',
});
const deal = (id: string, active = true): AttendanceDeal => ({
  id,
  name: `Deal ${id}`,
  kind: 'city_deal',
  phase: active ? 'delivering' : 'completed',
  active,
});

t.test('a meeting counts in the year where it is held', async (t) => {
  t.equal(meetingYear(meeting('m', '2026-12-31T23:30:00Z')), 2027, 'half past midnight in Amsterdam: 2027');
  t.equal(meetingYear(meeting('m', '2026-12-31T22:30:00Z')), 2026);
});

t.test('per deal: meetings represented, people, per year; never and rarely represented', async (t) => {
  const meetings = [
    meeting('m1', '2027-03-11T12:00:00Z'),
    meeting('m2', '2027-11-20T12:00:00Z'),
    meeting('m3', '2028-03-10T12:00:00Z'),
    meeting('m4', '2028-11-10T12:00:00Z'),
  ];
  const counts = [
    { meetingId: 'm1', dealId: 'a', people: 2 },
    { meetingId: 'm2', dealId: 'a', people: 1 },
    { meetingId: 'm3', dealId: 'a', people: 1 },
    { meetingId: 'm1', dealId: 'b', people: 1 },
    { meetingId: 'm1', dealId: null, people: 3 },
    { meetingId: 'other', dealId: 'c', people: 5 },
  ];
  const summary = summariseAttendance(
    meetings,
    counts,
    [deal('a'), deal('b'), deal('c'), deal('d', false)],
    0.25,
  );
  t.same(
    summary.deals.map((d) => [d.dealId, d.meetingsRepresented, d.people]),
    [
      ['a', 3, 4],
      ['b', 1, 1],
      ['c', 0, 0],
      ['d', 0, 0],
    ],
    'most represented first; a meeting outside the range counts for nobody',
  );
  t.same(summary.deals[0]!.perYear, [
    { year: 2027, meetings: 2, meetingsRepresented: 2, people: 3 },
    { year: 2028, meetings: 2, meetingsRepresented: 1, people: 1 },
  ]);
  t.equal(summary.withoutDeal, 3);
  t.same(summary.neverRepresented, [{ dealId: 'c', name: 'Deal c' }], 'a completed deal is not missed');
  t.same(
    summary.rarelyRepresented,
    [{ dealId: 'b', name: 'Deal b', meetingsRepresented: 1 }],
    '1 of 4 ≤ 25 %',
  );
  t.same(summariseAttendance(meetings, counts, [deal('b')], 0.2).rarelyRepresented, [], '1 of 4 > 20 %');
  t.same(
    summary.meetings.map((m) => m.year),
    [2027, 2027, 2028, 2028],
  );
});

t.test('no meetings: nothing is rarely represented, every active deal never', async (t) => {
  const summary = summariseAttendance([], [], [deal('a')], 0.5);
  t.same(summary.rarelyRepresented, []);
  t.same(summary.neverRepresented, [{ dealId: 'a', name: 'Deal a' }]);
});
