/**
 * The SMTP server goes away for a minute under a load of registrations and deal changes, then comes back on
 * its port. Mails wait without using their attempts (with the suite's fast retry settings, ten attempts
 * would be spent in seconds and the mails given up); once the server answers, every mail that waited is
 * delivered within 30 s, none twice.
 */
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { loadThroughOutage, sleep } from '../src/outage.ts';
import { System } from '../src/system.ts';
import { classifyMails } from '../src/workload.ts';

const outageMs = Number(process.env.FAULTS_SMTP_OUTAGE_MS ?? 60_000);

const system = await System.start();
t.teardown(() => system.close());

t.test(
  'SMTP down for a minute under load, then back: waiting mails out within 30 s, once each',
  async (t) => {
    await loadThroughOutage(t, system, async (load) => {
      await system.mail.stop();
      t.comment(`SMTP server stopped after ${load.done} operations`);
      await sleep(outageMs);
      const [{ n: waiting }] = await system.query(
        `select count(*)::int as n from notification.email where status = 'queued'`,
      );
      const committed = load.registrations.filter((r) => r.outcome === 'committed');
      await system.mail.start();
      const back = Date.now();
      t.comment(`SMTP server back after ${load.done} operations, ${waiting} mails waiting`);
      t.ok(waiting > 0, `mails waited for the server (${waiting})`);
      const delivered = await eventually(
        () => classifyMails(committed, system.mail.received, ['registration_confirmed']).lost.length === 0,
        30_000,
        100,
      );
      t.ok(
        delivered,
        `every registration before the return has its mail within 30 s of it (${Date.now() - back} ms)`,
      );
    });
    const spread = await system.query(
    `select attempts, status, left(last_error, 80) as last_error, count(*)::int as n from notification.email
     group by 1, 2, 3 order by 1, 2`,
  );
  t.comment(`mails by attempts: ${JSON.stringify(spread)}`);
  const [attempts] = await system.query(
      `select max(attempts)::int as max, count(*) filter (where status <> 'sent')::int as unsent
     from notification.email where kind = 'registration_confirmed'`,
    );
    t.equal(attempts.unsent, 0, 'no mail given up');
    t.equal(attempts.max, 1, 'the outage used no attempts: every mail went out on its first');
  },
);
