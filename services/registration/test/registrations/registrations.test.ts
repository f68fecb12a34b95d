// Registering, the waitlist and promotion, and self-service with the emailed link.
import { attendeeRegistered, attendeeWaitlisted } from '@citydeals/contracts';
import t from 'tap';
import { hashManageToken } from '../../src/manage-links/manage-token.ts';
import {
  adminHeaders,
  countRows,
  createMeeting,
  outboxEvents,
  person,
  registerPerson,
  shortType,
  startRegistration,
  TestClock,
} from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const { http } = ctx.service;
const svc = ctx.service;

async function eventsSince(count: number) {
  return (await outboxEvents(svc)).slice(count);
}

t.test(
  '60 parallel registrations into 40 seats: 40 confirmed, 20 waitlisted 1..20, no duplicates',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 40 });
    const before = (await outboxEvents(svc)).length;
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => registerPerson(svc, meeting.id, person(i))),
    );
    t.ok(
      results.every((r) => r.statusCode === 201),
      'all answered 201',
    );
    const bodies = results.map((r) => r.json());
    const confirmed = bodies.filter((b) => b.status === 'confirmed');
    const waitlisted = bodies.filter((b) => b.status === 'waitlisted');
    t.equal(confirmed.length, 40);
    t.equal(waitlisted.length, 20);
    t.same(
      waitlisted.map((b) => b.position).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    t.equal(new Set(bodies.map((b) => b.registrationId)).size, 60);
    t.ok(
      bodies.every((b) =>
        /^https:\/\/cop\.example\.org\/aanmelding\/beheren\/[A-Za-z0-9_-]{32}$/.test(b.manageUrl),
      ),
    );

    const stored = await svc.runtime.db
      .selectFrom('registration')
      .select(['status', 'seq', 'token_hash'])
      .where('meeting_id', '=', meeting.id)
      .orderBy('seq')
      .execute();
    t.equal(stored.filter((r) => r.status === 'confirmed').length, 40, 'the database agrees');
    // Arrival order decides: everyone confirmed arrived before everyone waiting.
    t.same(
      stored.map((r) => r.status),
      [...Array(40).fill('confirmed'), ...Array(20).fill('waitlisted')],
    );
    const token = bodies[0].manageUrl.split('/').pop();
    t.equal(
      stored.filter((r) => r.token_hash === hashManageToken(token)).length,
      1,
      'only the hash is stored',
    );
    t.notOk(stored.some((r) => r.token_hash === token));

    const events = await eventsSince(before);
    t.equal(events.filter((e) => shortType(e.type) === 'attendee.registered').length, 40);
    const waitEvents = events.filter((e) => shortType(e.type) === 'attendee.waitlisted');
    t.equal(waitEvents.length, 20);
    t.ok(events.every((e) => e.data.version === 1));
    t.ok(
      events.every(
        (e) =>
          (shortType(e.type) === 'attendee.waitlisted'
            ? attendeeWaitlisted
            : attendeeRegistered
          ).schema.safeParse(e).success,
      ),
      'every event matches its contract',
    );
    t.same(
      waitEvents.map((e) => e.data.position),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'waitlist events in commit order carry positions 1..20',
    );
    const mine = events.find((e) => e.subject === bodies[0].registrationId)!;
    t.equal(mine.data.manageUrl, bodies[0].manageUrl, 'the event carries the manage link with its token');

    const meetingView = await http.inject(`/meetings/${meeting.id}`);
    t.same(meetingView.json().seats, { capacity: 40, confirmed: 40, available: 0, waitlisted: 20 });
  },
);

t.test(
  'the same email again: nothing about the registration is told, the address gets a fresh link (a few an hour)',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 1 });
    await registerPerson(svc, meeting.id, person(0, { email: 'voor-sanne@example.org' }));
    const first = await registerPerson(svc, meeting.id, person(1, { email: 'Sanne.deVries@Example.org' }));
    t.equal(first.statusCode, 201);
    t.equal(first.json().status, 'waitlisted', 'a waitlist place that must not leak');
    const rows = await countRows(svc, 'registration');
    const before = (await outboxEvents(svc)).length;
    const [second, third] = await Promise.all([
      registerPerson(svc, meeting.id, person(2, { email: 'sanne.devries@example.org' })),
      registerPerson(svc, meeting.id, person(3, { email: 'SANNE.DEVRIES@EXAMPLE.ORG' })),
    ]);
    for (const again of [second, third]) {
      t.equal(again.statusCode, 200);
      t.same(
        again.json(),
        {
          registrationId: null,
          meetingId: meeting.id,
          status: null,
          position: null,
          manageUrl: null,
          existing: true,
        },
        'no id, status or waitlist place of the person at that address',
      );
    }
    t.equal(await countRows(svc, 'registration'), rows, 'no second registration');
    const reissued = async () =>
      (await outboxEvents(svc)).slice(before).filter((e) => shortType(e.type) === 'attendee.link_reissued');
    const links = await reissued();
    t.equal(links.length, 2, 'each attempt mails the person a fresh link');
    t.match(links[1]!.data, {
      registrationId: first.json().registrationId,
      email: 'Sanne.deVries@Example.org',
      status: 'waitlisted',
      position: 1,
      reason: 'registered_again',
    });
    t.equal((await outboxEvents(svc)).length, before + 2, 'nothing else published');
    t.equal(
      (await http.inject(`/registrations/manage/${tokenOf(first.json().manageUrl)}`)).statusCode,
      404,
      'the old link stopped working',
    );
    const newest = links.map((e) => e.data).sort((a, b) => b.version - a.version)[0]!;
    t.equal((await ownView(tokenOf(newest.manageUrl))).registrationId, first.json().registrationId);
    for (let i = 0; i < 3; i += 1) {
      t.equal(
        (await registerPerson(svc, meeting.id, person(4, { email: 'sanne.devries@example.org' }))).statusCode,
        200,
      );
    }
    t.equal((await reissued()).length, 3, 'at most three link mails an hour to one address');
  },
);

function tokenOf(manageUrl: string): string {
  return manageUrl.split('/').pop()!;
}

async function ownView(token: string) {
  return (await http.inject(`/registrations/manage/${token}`)).json();
}

t.test(
  'promotion in arrival order on cancellation and on raised capacity; lowering unseats nobody',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 2 });
    const reg: Record<string, any> = {};
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      reg[name] = (
        await registerPerson(svc, meeting.id, person(0, { name, email: `${name}@example.org` }))
      ).json();
    }
    t.same(
      Object.values(reg).map((r) => [r.status, r.position]),
      [
        ['confirmed', null],
        ['confirmed', null],
        ['waitlisted', 1],
        ['waitlisted', 2],
        ['waitlisted', 3],
      ],
    );
    const before = (await outboxEvents(svc)).length;

    const cancel = await http.inject({
      method: 'POST',
      url: `/registrations/manage/${tokenOf(reg.a.manageUrl)}/cancel`,
    });
    t.equal(cancel.statusCode, 200);
    t.equal((await ownView(tokenOf(reg.c.manageUrl))).status, 'confirmed', 'the longest-waiting is promoted');
    t.same(
      [
        (await ownView(tokenOf(reg.d.manageUrl))).position,
        (await ownView(tokenOf(reg.e.manageUrl))).position,
      ],
      [1, 2],
    );
    let events = await eventsSince(before);
    t.same(
      events.map((e) => [shortType(e.type), e.subject, e.data.version]),
      [
        ['attendee.cancelled', reg.a.registrationId, 2],
        ['attendee.promoted', reg.c.registrationId, 2],
      ],
    );
    t.match(events[0]!.data, { previousStatus: 'confirmed', cancelledBy: 'attendee', status: 'cancelled' });
    t.equal(events[1]!.data.previousPosition, 1);
    t.notMatch(events[1]!.data.manageUrl, tokenOf(reg.c.manageUrl), 'later events never carry the secret');

    const raised = await http.inject({
      method: 'PUT',
      url: `/admin/meetings/${meeting.id}/capacity`,
      headers: adminHeaders,
      payload: { capacity: 4 },
    });
    t.equal(raised.statusCode, 200, raised.body);
    t.same(raised.json().promoted, [
      { registrationId: reg.d.registrationId, previousPosition: 1 },
      { registrationId: reg.e.registrationId, previousPosition: 2 },
    ]);
    events = await eventsSince(before + 2);
    t.same(
      events.map((e) => [shortType(e.type), e.subject, e.data.version]),
      [
        ['meeting.updated', meeting.id, 2],
        ['attendee.promoted', reg.d.registrationId, 2],
        ['attendee.promoted', reg.e.registrationId, 2],
      ],
    );
    t.same(events[0]!.data.changedFields, ['capacity']);

    const lowered = await http.inject({
      method: 'PUT',
      url: `/admin/meetings/${meeting.id}/capacity`,
      headers: adminHeaders,
      payload: { capacity: 1 },
    });
    t.same(
      lowered.json().meeting.seats,
      { capacity: 1, confirmed: 4, available: 0, waitlisted: 0 },
      'all four keep their seat',
    );
    const late = (await registerPerson(svc, meeting.id, person(0, { email: 'f@example.org' }))).json();
    t.same([late.status, late.position], ['waitlisted', 1]);
    const adminCancel = await http.inject({
      method: 'POST',
      url: `/admin/registrations/${reg.b.registrationId}/cancel`,
      headers: adminHeaders,
    });
    t.same(adminCancel.json().promoted, [], 'still over the lowered capacity: nobody promoted');
    const waitCancel = await http.inject({
      method: 'POST',
      url: `/registrations/manage/${tokenOf(late.manageUrl)}/cancel`,
    });
    t.equal(waitCancel.statusCode, 200);
    const last = (await eventsSince(before + 5)).map((e) => [
      shortType(e.type),
      e.data.cancelledBy ?? null,
      e.data.previousStatus ?? null,
    ]);
    t.same(last, [
      ['meeting.updated', null, null],
      ['attendee.waitlisted', null, null],
      ['attendee.cancelled', 'admin', 'confirmed'],
      ['attendee.cancelled', 'attendee', 'waitlisted'],
    ]);
  },
);

t.test(
  'self-service with the token: view, update needs, cancel; bad and unknown tokens refused',
  async (t) => {
    const meeting = await createMeeting(svc, { capacity: 5 });
    const res = (await registerPerson(svc, meeting.id, person(7, { dietaryNeeds: 'vegetarisch' }))).json();
    const token = tokenOf(res.manageUrl);
    const view = await ownView(token);
    t.match(view, {
      registrationId: res.registrationId,
      status: 'confirmed',
      dietaryNeeds: 'vegetarisch',
      email: 'deelnemer7@example.org',
    });
    t.equal(view.meeting.venue.address, 'Voormalig PTT-terrein, Den Haag', 'the attendee sees the address');

    const events = (await outboxEvents(svc)).length;
    const updated = await http.inject({
      method: 'PATCH',
      url: `/registrations/manage/${token}`,
      payload: {
        dietaryNeeds: 'veganistisch',
        accessibilityNeeds: 'rolstoelplek',
        consents: { photo: true },
      },
    });
    t.equal(updated.statusCode, 200, updated.body);
    t.match(updated.json(), {
      dietaryNeeds: 'veganistisch',
      accessibilityNeeds: 'rolstoelplek',
      consents: { photo: true, attendeeList: false },
    });
    const [changed, ...more] = (await outboxEvents(svc)).slice(events);
    t.same(more, [], 'one event for one change');
    t.match(changed, {
      type: 'nl.citydeals.registration.attendee.needs_changed.v1',
      subject: res.registrationId,
      data: {
        registrationId: res.registrationId,
        version: 2,
        status: 'confirmed',
        dietaryNeeds: 'veganistisch',
        accessibilityNeeds: 'rolstoelplek',
        consents: { photo: true, attendeeList: false },
        changedFields: ['dietaryNeeds', 'accessibilityNeeds', 'consents'],
      },
    });
    const same = await http.inject({
      method: 'PATCH',
      url: `/registrations/manage/${token}`,
      payload: { dietaryNeeds: 'veganistisch' },
    });
    t.equal(same.statusCode, 200);
    t.equal((await outboxEvents(svc)).length, events + 1, 'restating the needs is no change and no event');
    const consentOnly = await http.inject({
      method: 'PATCH',
      url: `/registrations/manage/${token}`,
      payload: { consents: { attendeeList: true } },
    });
    t.equal(consentOnly.statusCode, 200);
    const versions = (await outboxEvents(svc))
      .filter((e) => e.subject === res.registrationId)
      .map((e) => [shortType(e.type), e.data.version, e.data.changedFields]);
    t.same(
      versions,
      [
        ['attendee.registered', 1, undefined],
        ['attendee.needs_changed', 2, ['dietaryNeeds', 'accessibilityNeeds', 'consents']],
        ['attendee.needs_changed', 3, ['consents']],
      ],
      'every version of the registration is announced: consumers see no gaps',
    );

    const ics = await http.inject(`/registrations/manage/${token}/calendar.ics`);
    t.equal(ics.statusCode, 200);
    t.match(
      ics.body.replaceAll('\r\n ', ''),
      'LOCATION:Hangar op het voormalige PTT-terrein\\, Voormalig PTT-terrein\\, Den Haag',
    );

    const malformed = await http.inject('/registrations/manage/not-a-token');
    t.equal(malformed.statusCode, 400);
    t.equal(malformed.json().errors[0].field, 'params.token');
    const unknown = await http.inject(`/registrations/manage/${'A'.repeat(32)}`);
    t.equal(unknown.statusCode, 404);
    t.equal(unknown.headers['content-type'], 'application/problem+json; charset=utf-8');

    t.equal(
      (await http.inject({ method: 'POST', url: `/registrations/manage/${token}/cancel` })).statusCode,
      200,
    );
    const twice = await http.inject({ method: 'POST', url: `/registrations/manage/${token}/cancel` });
    t.equal(twice.statusCode, 200, 'cancelling twice is a no-op');
    const cancelledEvents = (await outboxEvents(svc)).filter(
      (e) => e.subject === res.registrationId && shortType(e.type) === 'attendee.cancelled',
    );
    t.equal(cancelledEvents.length, 1, 'one cancellation event');
    const afterCancel = await http.inject({
      method: 'PATCH',
      url: `/registrations/manage/${token}`,
      payload: { dietaryNeeds: 'x' },
    });
    t.equal(afterCancel.statusCode, 409);

    const again = await registerPerson(svc, meeting.id, person(7));
    t.equal(again.statusCode, 201, 'after cancelling, the same person may register anew');
    t.not(again.json().registrationId, res.registrationId);
  },
);
