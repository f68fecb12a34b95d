// Meetings from the admin API to the events they announce, the calendar, the demo meeting, and the relay.
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { createServiceContext } from '../../src/context.ts';
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
const ctx = await startRegistration(clock, { SEED_DEMO_DATA: 'true' });
t.teardown(() => ctx.close());
const { http } = ctx.service;
const svc = ctx.service;

async function eventsSince(count: number) {
  return (await outboxEvents(svc)).slice(count);
}

t.test('a meeting from draft to cancelled: each change one event with the next version', async (t) => {
  const before = (await outboxEvents(svc)).length;
  const created = await createMeeting(svc, { status: 'draft', timeZone: 'Europe/Amsterdam' });
  t.equal(created.version, 1);
  t.equal(created.status, 'draft');
  t.equal(created.startsAt, '2027-03-11T12:00:00.000Z', 'wall-clock time read in Europe/Amsterdam (CET)');
  t.equal((await http.inject(`/meetings/${created.id}`)).statusCode, 404, 'a draft is not public');

  const published = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${created.id}/publish`,
    headers: adminHeaders,
  });
  t.equal(published.statusCode, 200);
  t.equal(published.json().status, 'published');
  const bySlug = await http.inject(`/meetings/${created.slug}`);
  t.equal(bySlug.statusCode, 200);
  t.equal(bySlug.json().id, created.id);
  t.notMatch(bySlug.body, /Voormalig PTT-terrein/, 'the address is not public');
  t.equal(bySlug.json().registration.state, 'open');

  const edit = { title: 'CoP maart 2027', reminderOffsets: ['P14D', 'P1D'] };
  const edited = await http.inject({
    method: 'PATCH',
    url: `/admin/meetings/${created.id}`,
    headers: adminHeaders,
    payload: edit,
  });
  t.equal(edited.statusCode, 200, edited.body);
  t.equal(edited.json().title, 'CoP maart 2027');
  t.equal(edited.json().icsSequence, 1, 'a new title is a new version of calendar entries');
  const same = await http.inject({
    method: 'PATCH',
    url: `/admin/meetings/${created.id}`,
    headers: adminHeaders,
    payload: edit,
  });
  t.equal(same.json().version, 3, 'an edit that changes nothing is no change');

  const moved = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${created.id}/reschedule`,
    headers: adminHeaders,
    payload: { startsAt: '2027-06-10T13:00', endsAt: '2027-06-10T17:30' },
  });
  t.equal(moved.statusCode, 200, moved.body);
  t.equal(moved.json().startsAt, '2027-06-10T11:00:00.000Z', 'summer time: UTC+2');
  t.equal(moved.json().icsSequence, 2);

  const cancelled = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${created.id}/cancel`,
    headers: adminHeaders,
    payload: { reason: 'De hangar is niet beschikbaar.' },
  });
  t.equal(cancelled.json().status, 'cancelled');
  t.equal(cancelled.json().icsSequence, 3, 'the cancellation supersedes the last invitation');
  const again = await http.inject({
    method: 'POST',
    url: `/admin/meetings/${created.id}/cancel`,
    headers: adminHeaders,
    payload: {},
  });
  t.equal(again.json().version, 5, 'cancelling twice is no change');

  const events = await eventsSince(before);
  t.same(
    events.map((e) => [shortType(e.type), e.data.version, e.subject]),
    [
      ['meeting.scheduled', 1, created.id],
      ['meeting.updated', 2, created.id],
      ['meeting.updated', 3, created.id],
      ['meeting.rescheduled', 4, created.id],
      ['meeting.cancelled', 5, created.id],
    ],
  );
  t.same(events[1]!.data.changedFields, ['status']);
  t.same(events[2]!.data.changedFields, ['title', 'reminderOffsets']);
  t.equal(events[3]!.data.previousStartsAt, '2027-03-11T12:00:00.000Z');
  t.same(
    events.map((e) => e.data.icsSequence),
    [0, 0, 1, 2, 3],
    'SEQUENCE: publishing changes no calendar entry; a title, the times and the cancellation do',
  );
  t.equal(events[4]!.data.reason, 'De hangar is niet beschikbaar.');

  const refused = await registerPerson(svc, created.id, person(1));
  t.equal(refused.statusCode, 409);
  t.match(refused.json(), { type: /meeting-cancelled$/, detail: /cancelled/ });
  const editCancelled = await http.inject({
    method: 'PATCH',
    url: `/admin/meetings/${created.id}`,
    headers: adminHeaders,
    payload: { title: 'x' },
  });
  t.equal(editCancelled.statusCode, 409);
  t.equal((await eventsSince(before)).length, 5, 'refusals publish nothing');
});

t.test('calendar: one meeting and the feed, stable UID and growing SEQUENCE', async (t) => {
  const meeting = await createMeeting(svc, { title: 'CoP, met komma; en puntkomma' });
  const one = async () =>
    (await http.inject(`/meetings/${meeting.slug}/calendar.ics`)).body.replaceAll('\r\n ', '');
  const first = await one();
  t.match(first, `UID:${meeting.id}@cop.citydeals.example.org\r\n`);
  t.match(first, 'SEQUENCE:0\r\n');
  t.match(first, 'SUMMARY:CoP\\, met komma\\; en puntkomma\r\n');
  t.match(first, 'DTSTART:20270311T120000Z\r\n');
  t.notMatch(first, 'Voormalig PTT-terrein', 'the public file names the venue only');
  await http.inject({
    method: 'POST',
    url: `/admin/meetings/${meeting.id}/reschedule`,
    headers: adminHeaders,
    payload: { startsAt: '2027-03-18T13:00', endsAt: '2027-03-18T17:00' },
  });
  const second = await one();
  t.match(second, `UID:${meeting.id}@cop.citydeals.example.org\r\n`);
  t.match(second, 'SEQUENCE:1\r\nDTSTAMP:');
  t.match(second, 'DTSTART:20270318T120000Z\r\n');

  const draft = await createMeeting(svc, { status: 'draft' });
  const feed = await http.inject('/calendar/meetings.ics');
  t.equal(feed.headers['content-type'], 'text/calendar; charset=utf-8');
  t.match(feed.body, `UID:${meeting.id}@`);
  t.notMatch(feed.body, `UID:${draft.id}@`, 'drafts are not in the feed');
  t.ok(
    feed.body.split('\r\n').every((line) => Buffer.byteLength(line) <= 75),
    'folded',
  );
});

t.test('demo data: one published meeting, created once through the service', async (t) => {
  const { seedDemoMeeting, DEMO_MEETING_SLUG } = await import('../../src/demo/demo-meeting.ts');
  const demo = await http.inject(`/meetings/${DEMO_MEETING_SLUG}`);
  t.equal(demo.statusCode, 200);
  t.match(demo.json(), { status: 'published', seats: { capacity: 40 }, venueName: /PTT-terrein/ });
  t.ok(demo.json().agenda.length >= 5);
  const again = await seedDemoMeeting(
    createServiceContext({
      db: svc.runtime.db,
      clock,
      newId: () => crypto.randomUUID(),
      publicBaseUrl: 'https://cop.example.org',
    }),
  );
  t.equal(again, 'present');
  const scheduled = (await outboxEvents(svc)).filter(
    (e) => shortType(e.type) === 'meeting.scheduled' && e.data.slug === DEMO_MEETING_SLUG,
  );
  t.equal(scheduled.length, 1, 'its event was published once');
});

t.test('every committed event reaches JetStream exactly once', async (t) => {
  const unpublished = () =>
    svc.runtime.db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute();
  await eventually(async () => (await unpublished()).length === 0);
  t.equal((await unpublished()).length, 0, 'the relay published everything');
  const outbox = await outboxEvents(svc);
  const streamName = svc.runtime.ns.streamName(svc.runtime.stream);
  const info = await svc.runtime.jsm.streams.info(streamName);
  const consumer = await svc.runtime.js.consumers.get(streamName);
  const seen: string[] = [];
  const messages = await consumer.fetch({ max_messages: info.state.messages, expires: 5000 });
  for await (const m of messages) {
    seen.push(m.json<{ id: string }>().id);
    if (seen.length === info.state.messages) break;
  }
  t.equal(seen.length, info.state.messages);
  t.equal(new Set(seen).size, seen.length, 'no event twice in the stream');
  const inStream = new Set(seen);
  t.ok(
    outbox.every((e) => inStream.has(e.id)),
    'every outbox event is in the stream',
  );
  // Erasure removed published outbox copies; the stream may hold those few more.
  t.ok(seen.length >= outbox.length);
});
