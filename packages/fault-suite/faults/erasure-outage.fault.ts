/**
 * (e, under a fault) Erasure while the broker is down: a person registers and is erased while the
 * registration's events are still in the outbox (a nats-server of the test's own, stopped); the broker
 * comes back, everything is relayed and consumed. Afterwards the address must be in no table of any schema.
 */
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { addressOccurrences } from '../src/erasure.ts';
import { adminAuth, System } from '../src/system.ts';
import { createMeeting, registerOnce } from '../src/workload.ts';

const system = await System.start({ nats: 'own' });
t.teardown(() => system.close());

t.test('erasure of a registration whose events are not yet relayed', async (t) => {
  const meeting = await createMeeting(system);
  await system.drain();

  await system.ownNats!.stop('SIGKILL');
  const op = await registerOnce(system, meeting.id);
  t.equal(op.outcome, 'committed', 'registering works while the broker is down (outbox)');
  const erased = await system.call('registration', 'POST', '/admin/erasures', {
    body: { email: op.email },
    headers: adminAuth,
  });
  t.equal(erased.status, 200);
  t.same(erased.body.erasedRegistrationIds, [op.registrationId], 'the registration is erased');
  const waiting = await system.count('registration.outbox', 'published_at is null');
  // The registered event (with the address) is withdrawn by the erasure; the erasure event itself waits.
  t.ok(waiting >= 1, `the erasure event waits in the outbox (${waiting} unpublished)`);

  await system.ownNats!.start();
  const healthy = await eventually(async () => {
    for (const p of system.all()) {
      const res = await fetch(`${p.url}/health/ready`).catch(() => undefined);
      if (res?.status !== 200) return false;
    }
    return true;
  }, 60_000);
  t.ok(healthy, 'every service is ready again after the broker restart');
  await system.drain(180_000);

  const recipients = await system.query(
    `select erased, email from notification.recipient where registration_id = $1`,
    [op.registrationId],
  );
  t.same(recipients, [{ erased: true, email: null }], 'notification erased its copy');
  const found = await addressOccurrences(system, op.email);
  t.comment(`address found after erasure + relay in: ${found.length === 0 ? 'nowhere' : found.join(', ')}`);
  t.same(found, [], 'the address is in no table of any schema');
});
