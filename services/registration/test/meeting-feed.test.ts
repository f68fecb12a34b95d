/**
 * The public meeting feed through the service's real routes, Postgres and outbox: what the announcer
 * publishes for each kind of change, the seat-level thresholds and throttle, attendance per deal after the
 * meeting, the cursor of GET /changes, and that nothing in it names a person.
 */

import { newEventId } from '@citydeals/service-kit';
import { countFields, findPersonalData } from '@citydeals/testkit';
import t from 'tap';
import { CORRECTION_WINDOW_MS } from '../src/feed/meeting-feed.rules.ts';
import { announceMeetings } from '../src/feed/meeting-feed.service.ts';
import {
  adminHeaders,
  createMeeting,
  insertDeals,
  outboxEvents,
  person,
  registerPerson,
  startRegistration,
  TestClock,
} from './harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const svc = ctx.service;
const THROTTLE_MS = 15 * 60_000;
const policy = { throttleMs: THROTTLE_MS, correctionWindowMs: CORRECTION_WINDOW_MS };
const feedCtx = { db: svc.runtime.db, clock, newId: newEventId, publicBaseUrl: 'https://cop.example.org' };
const announce = () => announceMeetings(feedCtx, policy);

const admin = async (method: 'POST' | 'PATCH', url: string, payload: object = {}) => {
  const res = await svc.http.inject({ method, url, headers: adminHeaders, payload });
  if (res.statusCode !== 200) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};

interface FeedItem {
  position: number;
  meetingId: string;
  version: number;
  event: { id: string; type: string; subject: string; data: Record<string, any> };
}

async function feed(after = 0, limit = 1000): Promise<{ items: FeedItem[]; next: number; hasMore: boolean }> {
  const res = await svc.http.inject({ url: `/changes?after=${after}&limit=${limit}`, headers: adminHeaders });
  if (res.statusCode !== 200) throw new Error(`GET /changes: ${res.statusCode} ${res.body}`);
  return res.json();
}

const kind = (type: string) => type.replace(/^nl\.citydeals\.registration\.public_meeting\.|\.v\d+$/g, '');
const publicEvents = async () => (await outboxEvents(svc)).filter((e) => e.type.includes('.public_meeting.'));

/** Everything personal the test put in: names, addresses, organisations, needs and registration ids. */
const personal: string[] = [];
const deals = [
  { id: newEventId(), name: 'Fietsen voor Iedereen', phase: 'building' },
  { id: newEventId(), name: 'Slimme Stad', phase: 'securing' },
];
await insertDeals(svc, deals);

async function register(meetingId: string, i: number, dealId: string | null) {
  const body = {
    ...person(i),
    name: `Marieke Feedtest${i}`,
    email: `marieke.feedtest${i}@example.org`,
    organisation: `Gemeente Feedstad${i}`,
    dealId,
    dietaryNeeds: `geen noten ${i}`,
  };
  const res = await registerPerson(svc, meetingId, body);
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
  const registrationId = res.json().registrationId as string;
  personal.push(body.name, body.email, body.organisation, body.dietaryNeeds, registrationId);
  return registrationId;
}

t.test('a meeting’s public life, as events and in the feed', async (t) => {
  const meeting = await createMeeting(svc, { status: 'draft', capacity: 10, slug: 'cop-feed-life' });
  t.equal(await announce(), 0, 'a draft is not public: nothing to announce');
  t.same((await feed()).items, [], 'and the feed is empty');

  await admin('POST', `/admin/meetings/${meeting.id}/publish`);
  t.equal(await announce(), 1);
  const [scheduled] = await publicEvents();
  t.equal(kind(scheduled!.type), 'scheduled');
  t.match(scheduled!.data, {
    meetingId: meeting.id,
    version: 1,
    status: 'published',
    url: 'https://cop.example.org/bijeenkomsten/cop-feed-life',
    online: false,
    seats: { capacity: 10, available: 10, waitlisted: 0, availability: 'available' },
  });
  t.equal(await announce(), 0, 'announced once: the next round finds nothing new');

  // Capacity 10: "limited" from 2 free seats (a fifth), "full" at 0.
  const ids: string[] = [];
  for (let i = 1; i <= 7; i++) ids.push(await register(meeting.id, i, deals[i % 2]!.id));
  t.equal(await announce(), 0, '3 seats free is still "available": no event for each registration');
  ids.push(await register(meeting.id, 8, null));
  t.equal(await announce(), 1, 'crossing into "limited" is announced');
  let events = await publicEvents();
  t.match(events.at(-1), {
    data: { version: 2, previousAvailability: 'available', seats: { available: 2, availability: 'limited' } },
  });
  t.equal(kind(events.at(-1)!.type), 'seats_changed');

  ids.push(await register(meeting.id, 9, deals[0]!.id));
  ids.push(await register(meeting.id, 10, deals[1]!.id));
  await register(meeting.id, 11, deals[1]!.id); // waitlisted
  t.equal(await announce(), 0, 'full within the throttle interval: held back');
  clock.advance(THROTTLE_MS - 1000);
  t.equal(await announce(), 0, 'still inside the interval');
  clock.advance(1000);
  t.equal(await announce(), 1, 'the interval is over: the level as it is now');
  events = await publicEvents();
  t.match(events.at(-1)!.data, {
    version: 3,
    previousAvailability: 'limited',
    seats: { available: 0, waitlisted: 1, availability: 'full' },
  });

  await admin('PATCH', `/admin/meetings/${meeting.id}`, { reminderOffsets: ['P2D'] });
  t.equal(await announce(), 0, 'an edit the public does not see is no public change');
  await admin('PATCH', `/admin/meetings/${meeting.id}`, {
    title: 'CoP City Deals, voorjaar 2027 (nieuwe titel)',
    onlineUrl: 'https://meet.example.org/geheim-kamer-123',
  });
  t.equal(await announce(), 1);
  events = await publicEvents();
  t.equal(kind(events.at(-1)!.type), 'changed');
  t.match(events.at(-1)!.data, { version: 4, changedFields: ['title', 'online'], online: true });
  t.notMatch(JSON.stringify(events.at(-1)), /geheim-kamer/, 'the online link goes to attendees only');

  await admin('POST', `/admin/registrations/${ids[0]}/check-in`);
  await admin('POST', `/admin/registrations/${ids[1]}/check-in`);
  await admin('POST', `/admin/registrations/${ids[7]}/check-in`);
  // Moved into the past, so it has ended: both the move and the attendance are news.
  await admin('POST', `/admin/meetings/${meeting.id}/reschedule`, {
    startsAt: '2027-01-09T13:00',
    endsAt: '2027-01-09T17:00',
  });
  t.equal(await announce(), 2);
  events = await publicEvents();
  const [moved, attendance] = events.slice(-2);
  t.equal(kind(moved!.type), 'rescheduled');
  t.match(moved!.data, {
    version: 5,
    previousStartsAt: '2027-03-11T12:00:00.000Z',
    startsAt: '2027-01-09T12:00:00.000Z',
    changedFields: ['registrationWindow'],
  });
  t.equal(kind(attendance!.type), 'attendance_recorded');
  const byDeal = (id: string) => attendance!.data.attendance.deals.find((d: any) => d.dealId === id);
  t.match(attendance!.data, {
    version: 6,
    correction: false,
    attendance: { registered: 10, attended: 3, withoutDeal: { registered: 1, attended: 1 } },
  });
  // Registrations 1..7 alternate deals (odd → deal 1, even → deal 0), 9 → deal 0, 10 → deal 1.
  t.match(byDeal(deals[0]!.id), { dealName: 'Fietsen voor Iedereen', registered: 4, attended: 1 });
  t.match(byDeal(deals[1]!.id), { dealName: 'Slimme Stad', registered: 5, attended: 1 });
  t.equal(attendance!.data.attendance.deals.length, 2, 'only deals that held a seat');

  clock.advance(THROTTLE_MS);
  t.equal(await announce(), 0, 'counts that did not change are not announced again');
  await admin('POST', `/admin/registrations/${ids[2]}/check-in`);
  clock.advance(-THROTTLE_MS);
  t.equal(await announce(), 0, 'a correction within the interval waits');
  clock.advance(THROTTLE_MS);
  t.equal(await announce(), 1, 'then it is announced');
  events = await publicEvents();
  t.match(events.at(-1)!.data, { version: 7, correction: true, attendance: { attended: 4 } });
  t.equal(await announce(), 0);

  clock.advance(CORRECTION_WINDOW_MS);
  await admin('POST', `/admin/registrations/${ids[3]}/check-in`);
  t.equal(await announce(), 0, 'after the correction window the counts stand');
});

t.test('a cancellation is a meeting’s last word', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 5, slug: 'cop-feed-cancelled' });
  await register(meeting.id, 20, null);
  const rounds = await Promise.all([announce(), announce(), announce()]);
  t.equal(
    rounds.reduce((a, b) => a + b, 0),
    1,
    'three announcers at once (replicas): the event is written once',
  );
  await admin('POST', `/admin/meetings/${meeting.id}/cancel`, { reason: 'Spreker Jan Jansen is ziek' });
  t.equal(await announce(), 1);
  const last = (await publicEvents()).at(-1)!;
  t.equal(kind(last.type), 'cancelled');
  t.match(last.data, { meetingId: meeting.id, version: 2, status: 'cancelled' });
  t.notMatch(JSON.stringify(last), /Jansen/, 'the reason (free text) stays inside');
  personal.push('Jan Jansen');
  clock.advance(THROTTLE_MS);
  t.equal(await announce(), 0, 'nothing after it');
});

t.test('GET /changes: a cursor over every public event, in order, with nothing personal', async (t) => {
  const unauthenticated = await svc.http.inject({ url: '/changes' });
  t.equal(unauthenticated.statusCode, 401);
  const bad = await svc.http.inject({ url: '/changes?after=-1', headers: adminHeaders });
  t.equal(bad.statusCode, 400);
  t.match(bad.headers['content-type'], /application\/problem\+json/);

  const all = await feed();
  const outbox = await publicEvents();
  t.same(
    all.items.map((i) => i.event.id),
    outbox.map((e) => e.id),
    'the feed holds exactly the events published, in the same order',
  );
  t.same(
    all.items.map((i) => i.event),
    outbox,
    'each one exactly as published',
  );
  for (const item of all.items) {
    t.equal(item.version, item.event.data.version);
    t.equal(item.meetingId, item.event.subject);
  }
  for (const meetingId of new Set(all.items.map((i) => i.meetingId))) {
    const items = all.items.filter((i) => i.meetingId === meetingId);
    t.same(
      items.map((i) => i.version),
      items.map((_, n) => n + 1),
      'per meeting, versions 1, 2, 3, … without gaps',
    );
  }

  // Paged by 3: the same items, and an empty page with the same cursor at the end.
  const paged: FeedItem[] = [];
  let cursor = 0;
  for (;;) {
    const page = await feed(cursor, 3);
    paged.push(...page.items);
    if (!page.hasMore) {
      t.equal(page.next, paged.at(-1)!.position);
      break;
    }
    cursor = page.next;
  }
  t.same(paged, all.items);
  t.same((await feed(all.next)).items, [], 'caught up');
  t.equal((await feed(all.next)).next, all.next);

  t.ok(personal.length >= 50, 'the test registered people (names, addresses, organisations, ids)');
  t.ok(countFields(all.items) > 200, 'the walk covers many fields');
  t.same(findPersonalData(all.items, personal), [], 'no field of the feed names anyone');
  t.same(findPersonalData(outbox, personal), [], 'nor of the events published');
});
