import { attendeeRegistered, meetingScheduled } from '@citydeals/contracts';
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { Injector, newId } from '../src/injector.ts';
import { adminAuth, System } from '../src/system.ts';

/**
 * (b, end to end) An event that fails until an operator acts is dead-lettered after its retries, stays
 * dead-lettered when the cause is fixed, and applies exactly once when retried through the admin API.
 */
const system = await System.start({
  env: {
    notification: {
      CONSUMER_MAX_DELIVERIES: '3',
      CONSUMER_RETRY_INITIAL_MS: '50',
      CONSUMER_RETRY_MAX_MS: '200',
    },
  },
});
t.teardown(() => system.close());
const inject = await Injector.open(system);
t.teardown(() => inject.close());

const mailsTo = (email: string) =>
  system.mail.received.filter((m) => m.to === email.toLowerCase() && m.kind === 'registration_confirmed');

async function deadLettersAbout(registrationId: string, includeResolved = false) {
  const res = await system.call(
    'notification',
    'GET',
    `/admin/dead-letters?includeResolved=${includeResolved}&limit=500`,
    { headers: adminAuth },
  );
  if (res.status !== 200) throw new Error(`dead letters: ${res.status} ${res.text}`);
  return (res.body.items as { id: number; payload: string; resolvedAt: string | null }[]).filter((d) =>
    d.payload.includes(registrationId),
  );
}

t.test('dead-lettered after its retries, retried after the fix through the API, applied once', async (t) => {
  const meetingId = newId();
  const registrationId = newId();
  const email = `dlq-${registrationId}@faults.example.org`;
  const envelope = (type: string, subject: string, data: unknown) =>
    JSON.stringify({
      specversion: '1.0',
      id: newId(),
      source: '/registration',
      type,
      subject,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data,
    });

  // A registration for a meeting the notification service has never heard of: its handler fails each time.
  await inject.raw(
    attendeeRegistered.subject,
    envelope(attendeeRegistered.type, registrationId, {
      ...attendeeRegistered.example,
      registrationId,
      meetingId,
      email,
      language: 'en',
    }),
  );
  const dead = await eventually(async () => (await deadLettersAbout(registrationId)).at(0), 30_000);
  t.ok(dead, 'dead-lettered after 3 deliveries');

  // The cause is fixed: the meeting arrives. The dead letter is not retried by itself.
  const startsAt = new Date(Date.now() + 20 * 86_400_000);
  await inject.raw(
    meetingScheduled.subject,
    envelope(meetingScheduled.type, meetingId, {
      ...meetingScheduled.example,
      meetingId,
      slug: `dlq-${meetingId.slice(-8)}`,
      language: 'en',
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 3600_000).toISOString(),
    }),
  );
  await system.drain();
  t.equal(mailsTo(email).length, 0, 'no mail while the event sits in the dead letters');

  const retried = await system.call('notification', 'POST', `/admin/dead-letters/${dead!.id}/retry`, {
    headers: adminAuth,
  });
  t.equal(retried.status, 200, `retry answered ${retried.status} ${retried.text}`);
  t.match(retried.body, { status: 'resolved', outcome: 'handled' });
  await eventually(() => mailsTo(email).length === 1, 30_000);
  await system.drain();
  t.equal(mailsTo(email).length, 1, 'exactly one confirmation after the retry');

  const again = await system.call('notification', 'POST', `/admin/dead-letters/${dead!.id}/retry`, {
    headers: adminAuth,
  });
  t.equal(again.status, 409, 'a second retry is refused: already resolved');
  t.equal((await deadLettersAbout(registrationId)).length, 0, 'no open dead letter left');
  t.equal(mailsTo(email).length, 1, 'still one mail');
});
