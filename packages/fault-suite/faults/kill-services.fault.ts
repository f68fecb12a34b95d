/**
 * (a) kill -9 of each service in turn during a load of registrations and deal changes, with a webhook
 * endpoint subscribed; each is started again. Afterwards every committed registration has exactly one
 * confirmation mail and every committed deal change exactly one webhook delivery.
 */
import t from 'tap';
import { prepareLoad } from '../src/load.ts';
import { System, serviceKeys } from '../src/system.ts';
import {
  classifyDeliveries,
  classifyMails,
  resolveFromDatabase,
  summary,
  waitForEffects,
} from '../src/workload.ts';

const opsBetweenFaults = Number(process.env.FAULTS_OPS_PER_PHASE ?? 40);

const system = await System.start();
t.teardown(() => system.close());

t.test('kill -9 each service in turn under load; restart; nothing lost, nothing doubled', async (t) => {
  const started = Date.now();
  const load = await prepareLoad(system);
  load.start();
  try {
    await load.progress(opsBetweenFaults);
    for (const service of serviceKeys) {
      for (const p of system.processes[service]) {
        await p.stop('SIGKILL');
        t.comment(`killed ${service} (kill -9) after ${load.done} operations`);
        await p.start();
      }
      await load.progress(opsBetweenFaults);
    }
  } finally {
    await load.stop();
  }
  await system.drain(180_000);

  const registrations = load.registrations;
  const changes = load.dealChanges;
  const unknown = [...registrations, ...changes].filter((op) => op.outcome !== 'committed');
  t.same(unknown, [], 'every operation got a definite answer and committed');
  // A retry whose first attempt committed before the kill is answered as an existing registration, without
  // its status: the database tells it.
  t.same(await resolveFromDatabase(system, registrations, []), [], 'every answer agrees with the database');
  t.ok(
    registrations.every((r) => r.status === 'confirmed'),
    'every registration confirmed (capacity is ample)',
  );

  const mails = await waitForEffects(() =>
    classifyMails(registrations, system.mail.received, ['registration_confirmed']),
  );
  const hooks = await waitForEffects(() => classifyDeliveries(changes, system.hooks.received));
  t.comment(summary('confirmation mails', mails));
  t.comment(summary('webhook deliveries of deal changes', hooks));
  t.comment(
    `restarts: ${system
      .all()
      .map((p) => `${p.service}=${p.starts - 1}`)
      .join(' ')}`,
  );
  t.comment(`scenario took ${Math.round((Date.now() - started) / 1000)} s`);

  t.ok(mails.operations >= opsBetweenFaults, `a real load: ${mails.operations} registrations`);
  t.ok(hooks.operations >= opsBetweenFaults, `a real load: ${hooks.operations} deal changes`);
  t.same(mails.lost, [], 'no registration without its confirmation mail');
  t.same(mails.duplicated, [], 'no registration with two different confirmation mails');
  t.same(hooks.lost, [], 'no deal change without its webhook delivery');
  t.same(hooks.duplicated, [], 'no deal change delivered as two different messages');
  const addresses = new Set(registrations.map((r) => r.email.toLowerCase()));
  const strays = system.mail.received.filter((m) => !addresses.has(m.to));
  t.same(
    strays.map((m) => `${m.kind} to ${m.to}`),
    [],
    'no mail to anyone who did not register',
  );
  for (const p of system.all()) t.ok(p.running, `${p.service} running at the end`);
});
