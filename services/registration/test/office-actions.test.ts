/**
 * The admin routes the console's meeting and door pages stand on: the consequences of a change computed
 * before it is made (and matching what the change then does), adding an attendee (also above capacity),
 * undoing a check-in (its event, its rules, the door scope), and who made each change.
 */
import { generateKeyPairSync } from 'node:crypto';
import { signStaffToken, staffSigningKey } from '@citydeals/service-kit';
import t from 'tap';
import {
  adminHeaders,
  createMeeting,
  outboxEvents,
  person,
  registerPerson,
  shortType,
  startRegistration,
  TestClock,
} from './harness.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, {
  STAFF_TOKEN_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
});
t.teardown(() => ctx.close());
const svc = ctx.service;
const signing = staffSigningKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

const staff = async (role: 'redacteur' | 'deur') => ({
  authorization: `Bearer ${await signStaffToken(
    signing,
    {
      id: `acc-${role}`,
      name: role === 'deur' ? 'Dora Deur' : 'Rik Redacteur',
      email: `${role}@example.nl`,
      role,
    },
    clock.now(),
  )}`,
});

const call = async (
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  payload?: object,
  headers: Record<string, string> = adminHeaders,
) => svc.http.inject({ method, url, headers, ...(payload ? { payload } : {}) });

t.test('the consequences of a capacity change are what the change then does', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 2 });
  for (let i = 1; i <= 5; i++) await registerPerson(svc, meeting.id, person(100 + i));
  const preview = await call('POST', `/admin/meetings/${meeting.id}/consequences`, {
    change: 'capacity',
    capacity: 4,
  });
  t.equal(preview.statusCode, 200, preview.body);
  t.match(preview.json(), { unchanged: false, promoted: 2, notified: 0, seatsTaken: 2, waitlisted: 3 });
  const before = (await outboxEvents(svc)).length;
  const lower = await call('POST', `/admin/meetings/${meeting.id}/consequences`, {
    change: 'capacity',
    capacity: 1,
  });
  t.match(lower.json(), { promoted: 0, aboveCapacity: 1 }, 'lowering unseats nobody and says so');
  t.equal((await outboxEvents(svc)).length, before, 'a preview announces nothing');
  const change = await call('PUT', `/admin/meetings/${meeting.id}/capacity`, { capacity: 4 });
  t.equal(change.json().promoted.length, 2, 'the change promotes as many as the preview said');

  const reschedule = await call('POST', `/admin/meetings/${meeting.id}/consequences`, {
    change: 'reschedule',
    startsAt: '2027-03-18T13:00',
    endsAt: '2027-03-18T17:30',
  });
  t.match(reschedule.json(), { notified: 4 }, 'the four seated get a new date');
  const cancel = await call('POST', `/admin/meetings/${meeting.id}/consequences`, { change: 'cancel' });
  t.match(cancel.json(), { notified: 5 }, 'a cancellation reaches the waitlist too');
  const edit = await call('POST', `/admin/meetings/${meeting.id}/consequences`, {
    change: 'edit',
    description: 'Nieuwe tekst',
  });
  t.match(edit.json(), { notified: 0 }, 'a description is not in anyone’s calendar');
  const bad = await call('POST', `/admin/meetings/${meeting.id}/consequences`, {
    change: 'capacity',
    capacity: 0,
  });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().errors, [{ field: 'body.capacity' }], 'names the field');
});

t.test('the office adds an attendee, above capacity only when asked', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1 });
  await registerPerson(svc, meeting.id, person(201));
  const url = `/admin/meetings/${meeting.id}/registrations`;
  const refused = await call(
    'POST',
    url,
    { name: 'Jan Spreker', email: 'jan@example.org' },
    await staff('redacteur'),
  );
  t.equal(refused.statusCode, 409, 'full: refused without overCapacity');
  t.match(refused.json().errors, [{ field: 'body.overCapacity' }]);
  const before = await outboxEvents(svc);
  const added = await call(
    'POST',
    url,
    { name: 'Jan Spreker', email: 'jan@example.org', organisation: 'BZK', overCapacity: true },
    await staff('redacteur'),
  );
  t.equal(added.statusCode, 201, added.body);
  t.match(added.json(), { status: 'confirmed', name: 'Jan Spreker' });
  const meetingNow = (await call('GET', `/admin/meetings/${meeting.id}`)).json();
  t.match(meetingNow.seats, { capacity: 1, confirmed: 2, available: 0 }, 'a seat above capacity');
  const events = (await outboxEvents(svc)).slice(before.length);
  t.same(
    events.map((e) => shortType(e.type)),
    ['attendee.registered'],
    'announced like any confirmation',
  );
  t.match(events[0]!.data.manageUrl, /\/aanmelding\/beheren\/[\w-]{32}$/, 'with their own manage link');
  const twice = await call('POST', url, { name: 'Jan', email: 'JAN@example.org', overCapacity: true });
  t.equal(twice.statusCode, 409, 'one live registration per address');
  const actions = (await call('GET', `/admin/meetings/${meeting.id}/staff-actions`)).json().items;
  t.match(actions[0], {
    action: 'POST /admin/meetings/:id/registrations',
    actor: { type: 'user', id: 'staff:acc-redacteur', name: 'Rik Redacteur <redacteur@example.nl>' },
  });
  t.equal(actions.length, 1, 'refused calls record nothing');
});

t.test('a check-in is undone by the door on the day, and says who', async (t) => {
  clock.current = new Date('2027-01-10T10:00:00Z');
  const today = await createMeeting(svc, {
    startsAt: '2027-01-10T13:00',
    endsAt: '2027-01-10T17:00',
    capacity: 5,
  });
  const other = await createMeeting(svc, { capacity: 5 });
  const anna = (await registerPerson(svc, today.id, person(301))).json();
  const bram = (await registerPerson(svc, other.id, person(302))).json();
  const door = await staff('deur');
  t.equal(
    (await call('POST', `/admin/registrations/${anna.registrationId}/check-in`, undefined, door)).statusCode,
    200,
  );
  const notYet = await call(
    'POST',
    `/admin/registrations/${bram.registrationId}/check-in/undo`,
    undefined,
    door,
  );
  t.equal(notYet.statusCode, 403, 'the door cannot touch another day’s meeting');
  const before = (await outboxEvents(svc)).length;
  clock.advance(30_000);
  const undo = await call(
    'POST',
    `/admin/registrations/${anna.registrationId}/check-in/undo`,
    undefined,
    door,
  );
  t.equal(undo.statusCode, 200, undo.body);
  t.match(undo.json(), { status: 'confirmed', checkedInAt: null });
  const events = (await outboxEvents(svc)).slice(before);
  t.same(
    events.map((e) => shortType(e.type)),
    ['attendee.check_in_undone'],
  );
  t.match(events[0]!.data, {
    status: 'confirmed',
    previousCheckedInAt: '2027-01-10T10:00:00.000Z',
    undoneAt: '2027-01-10T10:00:30.000Z',
    undoneBy: { type: 'user', name: 'Dora Deur <deur@example.nl>' },
  });
  const seats = (await call('GET', `/admin/meetings/${today.id}`)).json().seats;
  t.equal(seats.confirmed, 1, 'the seat stays taken');
  const again = await call(
    'POST',
    `/admin/registrations/${anna.registrationId}/check-in/undo`,
    undefined,
    door,
  );
  t.equal(again.statusCode, 200, 'undoing twice is a no-op');
  t.equal((await outboxEvents(svc)).length, before + 1, '…that announces nothing');
  const waiting = await createMeeting(svc, { capacity: 1 });
  await registerPerson(svc, waiting.id, person(303));
  const listed = (await registerPerson(svc, waiting.id, person(304))).json();
  const never = await call('POST', `/admin/registrations/${listed.registrationId}/check-in/undo`);
  t.equal(never.statusCode, 409, 'a waitlisted registration has no check-in to undo');
  const actions = (await call('GET', `/admin/meetings/${today.id}/staff-actions`)).json().items;
  t.same(
    actions.slice(0, 3).map((a: { action: string; actor: { name: string } }) => [a.action, a.actor.name]),
    [
      ['POST /admin/registrations/:id/check-in/undo', 'Dora Deur <deur@example.nl>'],
      ['POST /admin/registrations/:id/check-in/undo', 'Dora Deur <deur@example.nl>'],
      ['POST /admin/registrations/:id/check-in', 'Dora Deur <deur@example.nl>'],
    ],
    'each change with the person who made it',
  );
});

t.test('the office corrects an attendee, or hands the seat to someone else', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1 });
  const anna = (await registerPerson(svc, meeting.id, person(401))).json();
  const waiting = (await registerPerson(svc, meeting.id, person(402))).json();
  const url = `/admin/registrations/${anna.registrationId}`;
  const editor = await staff('redacteur');
  const before = (await outboxEvents(svc)).length;
  const fix = await svc.http.inject({
    method: 'PATCH',
    url,
    headers: editor,
    payload: { organisation: 'Gemeente Delft' },
  });
  t.equal(fix.statusCode, 200, fix.body);
  t.match(fix.json(), { name: 'Deelnemer 401', organisation: 'Gemeente Delft', status: 'confirmed' });
  const same = await svc.http.inject({
    method: 'PATCH',
    url,
    headers: editor,
    payload: { organisation: 'Gemeente Delft' },
  });
  t.equal(same.statusCode, 200, 'the same value again…');
  const taken = await svc.http.inject({
    method: 'PATCH',
    url,
    headers: editor,
    payload: { name: 'Iemand', email: person(402).email, substitute: true },
  });
  t.equal(taken.statusCode, 409, 'an address already registered for the meeting cannot take the seat');
  const noName = await svc.http.inject({
    method: 'PATCH',
    url,
    headers: editor,
    payload: { email: 'x@example.org', substitute: true },
  });
  t.equal(noName.statusCode, 400);
  t.match(noName.json().errors, [{ field: 'body.name' }], 'a substitute needs a name');
  const sub = await svc.http.inject({
    method: 'PATCH',
    url,
    headers: editor,
    payload: {
      name: 'Femke Jansen',
      email: 'femke@example.org',
      organisation: 'Provincie',
      substitute: true,
    },
  });
  t.equal(sub.statusCode, 200, sub.body);
  t.match(sub.json(), { name: 'Femke Jansen', email: 'femke@example.org', status: 'confirmed' });
  const events = (await outboxEvents(svc)).slice(before);
  t.same(
    events.map((e) => shortType(e.type)),
    ['attendee.details_changed', 'attendee.substituted'],
    '…changes nothing and announces nothing',
  );
  t.match(events[0]!.data, {
    changedFields: ['organisation'],
    changedBy: { name: 'Rik Redacteur <redacteur@example.nl>' },
  });
  t.match(
    events[1]!.data.manageUrl,
    /\/aanmelding\/beheren\/[\w-]{32}$/,
    'the new person gets their own link',
  );
  const oldLink = await svc.http.inject({
    method: 'GET',
    url: `/registrations/manage/${anna.manageUrl.split('/').pop()}`,
  });
  t.equal(oldLink.statusCode, 404, 'the previous person’s link no longer works');
  const seats = (await call('GET', `/admin/meetings/${meeting.id}`)).json().seats;
  t.match(seats, { confirmed: 1, waitlisted: 1 }, 'the seat stays taken; nobody waiting moved');
  const waitingSub = await svc.http.inject({
    method: 'PATCH',
    url: `/admin/registrations/${waiting.registrationId}`,
    headers: editor,
    payload: { name: 'Voordringer', email: 'voor@example.org', substitute: true },
  });
  t.equal(waitingSub.statusCode, 409, 'a waitlist place is not handed over');
});
