/**
 * (p) Connection poolers: the services behind a real PgBouncer (Debian's 1.18).
 *
 * Session mode is supported: two registration, one deal-tracking and two notification replicas reach Postgres
 * only through PgBouncer, under a load of registrations and deal changes; every committed registration gets
 * exactly one confirmation mail and every committed deal change exactly one webhook delivery. That exercises
 * what pins a session: named prepared statements (the registering statement, the mail queue's), the outbox
 * relay's session advisory lock (two registration replicas, one relays), the queue workers' planner settings
 * and search_path.
 *
 * Transaction and statement modes are refused: a service started behind either exits before it migrates,
 * naming session mode as the fix, and leaves its schema untouched.
 */
import { createTestDatabase } from '@citydeals/testkit';
import pg from 'pg';
import t from 'tap';
import { type PgBouncer, startPgBouncer } from '../src/pgbouncer.ts';
import { ServiceProcess, System } from '../src/system.ts';
import {
  changeDealOnce,
  classifyDeliveries,
  classifyMails,
  createDeal,
  createMeeting,
  type DealChangeOp,
  type RegistrationOp,
  registerOnce,
  subscribeWebhooks,
  summary,
  waitForEffects,
} from '../src/workload.ts';

const registrations = Number(process.env.FAULTS_POOLER_REGISTRATIONS ?? 300);
const dealChanges = Number(process.env.FAULTS_POOLER_DEAL_CHANGES ?? 60);

const system = await System.start({ deferStart: true, replicas: { registration: 2, notification: 2 } });
t.teardown(() => system.close());

t.test('session mode: everything through PgBouncer, nothing lost, nothing doubled', async (t) => {
  const bouncer = await startPgBouncer(system.databaseUrl, 'session');
  t.teardown(() => bouncer.close());
  for (const p of system.all()) p.env.DATABASE_URL = bouncer.through(system.databaseUrl);
  await system.startAll();

  const meeting = await createMeeting(system);
  await subscribeWebhooks(system);
  const deals = await Promise.all([1, 2, 3].map(() => createDeal(system)));
  await system.drain();

  const ops: RegistrationOp[] = [];
  const changes: DealChangeOp[] = [];
  let next = 0;
  await Promise.all([
    ...Array.from({ length: 8 }, async () => {
      while (next < registrations) {
        next += 1;
        ops.push(await registerOnce(system, meeting.id, 2));
      }
    }),
    (async () => {
      for (let i = 0; i < dealChanges; i++) changes.push(await changeDealOnce(system, deals[i % 3]!.id));
    })(),
  ]);
  t.equal(ops.filter((o) => o.outcome === 'committed').length, registrations, 'every registration committed');
  t.equal(
    changes.filter((o) => o.outcome === 'committed').length,
    dealChanges,
    'every deal change committed',
  );

  const mails = await waitForEffects(() =>
    classifyMails(ops, system.mail.received, ['registration_confirmed', 'registration_waitlisted']),
  );
  const hooks = await waitForEffects(() => classifyDeliveries(changes, system.hooks.received));
  await system.drain();
  const finalMails = classifyMails(ops, system.mail.received, [
    'registration_confirmed',
    'registration_waitlisted',
  ]);
  const finalHooks = classifyDeliveries(changes, system.hooks.received);
  t.comment(summary('mails', finalMails));
  t.comment(summary('webhooks', finalHooks));
  t.same(finalMails.lost, [], 'no confirmation lost');
  t.same(finalMails.duplicated, [], 'no confirmation doubled');
  t.same(finalHooks.lost, [], 'no webhook delivery lost');
  t.same(finalHooks.duplicated, [], 'no webhook delivery doubled');
  t.equal(mails.operations, registrations);
  t.equal(hooks.operations, dealChanges);

  const relaying = await Promise.all(
    system.processes.registration.map(async (p) => {
      const metrics = await (await fetch(`${p.url}/metrics`)).text();
      return /^outbox_relay_leader(?:\{[^}]*\})? 1$/m.test(metrics);
    }),
  );
  t.equal(
    relaying.filter(Boolean).length,
    1,
    'one registration replica holds the relay lock through PgBouncer',
  );
  for (const p of system.all()) t.ok(p.running, `${p.service}#${p.replica} running`);
});

for (const mode of ['transaction', 'statement'] as const) {
  t.test(`${mode} mode: the service refuses to start and says why`, async (t) => {
    const database = await createTestDatabase('cd_faults_pooler');
    t.teardown(() => database.drop());
    const bouncer: PgBouncer = await startPgBouncer(database.url, mode);
    t.teardown(() => bouncer.close());
    const template = system.processes.registration[0]!;
    const p = new ServiceProcess('registration', 9, template.port + 1000, {
      ...template.env,
      PORT: '0',
      DATABASE_URL: bouncer.through(database.url),
    });
    t.teardown(() => p.stop());
    const failure = await p.start(30_000).then(
      () => undefined,
      (err: Error) => err.message,
    );
    t.match(failure, /exited during start/, 'the process exits');
    t.match(failure, /TransactionPoolingError/, 'with the pooler error');
    t.match(failure, /pool_mode = session/, 'naming the fix');
    const direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    const schema = await direct.query(`select 1 from pg_namespace where nspname = 'registration'`);
    await direct.end();
    t.equal(schema.rowCount, 0, 'nothing migrated');
  });
}
