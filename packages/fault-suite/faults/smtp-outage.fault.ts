/**
 * The SMTP server goes away for a minute under a steady load of registrations, then comes back on its
 * port. Mails wait without using their attempts (with the suite's fast retry settings, ten attempts would
 * be spent in seconds and the mails given up); once the server answers, every mail that waited is
 * delivered within 30 s, none twice.
 */
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { Load } from '../src/load.ts';
import { sleep } from '../src/outage.ts';
import { System } from '../src/system.ts';
import { classifyMails, createMeeting, summary, waitForEffects } from '../src/workload.ts';

const outageMs = Number(process.env.FAULTS_SMTP_OUTAGE_MS ?? 60_000);

const system = await System.start();
t.teardown(() => system.close());

t.test(
  'SMTP down for a minute under load, then back: waiting mails out within 30 s, once each',
  async (t) => {
    const meeting = await createMeeting(system);
    // About 10 registrations a second: a steady load, leaving the machine room to drain what waited.
    const load = new Load(system, meeting.id, [], { registrationWorkers: 2, pauseBetweenMs: 200 });
    load.start();
    try {
      await load.progress(20);
      await system.mail.stop();
      t.comment(`SMTP server stopped after ${load.done} registrations`);
      await sleep(outageMs);
      const [{ n: waiting }] = await system.query(
        `select count(*)::int as n from notification.email where status = 'queued'`,
      );
      const before = load.registrations.filter((r) => r.outcome === 'committed');
      await system.mail.start();
      const back = Date.now();
      t.comment(`SMTP server back after ${load.done} registrations, ${waiting} mails waiting`);
      t.ok(waiting > 0, `mails waited for the server (${waiting})`);
      const delivered = await eventually(
        () => classifyMails(before, system.mail.received, ['registration_confirmed']).lost.length === 0,
        30_000,
        100,
      );
      t.ok(
        delivered,
        `every registration before the return has its mail within 30 s of it (${Date.now() - back} ms)`,
      );
      await load.progress(20);
    } finally {
      await load.stop();
    }
    await system.drain(180_000);
    const mails = await waitForEffects(() =>
      classifyMails(load.registrations, system.mail.received, ['registration_confirmed']),
    );
    t.comment(summary('confirmation mails', mails));
    t.same(mails.lost, [], 'no committed registration without its confirmation mail');
    t.same(mails.duplicated, [], 'no registration with two different confirmation mails');
    const [attempts] = await system.query(
      `select max(attempts)::int as max, count(*) filter (where status <> 'sent')::int as unsent
     from notification.email where kind = 'registration_confirmed'`,
    );
    t.equal(attempts.unsent, 0, 'no mail given up');
    t.equal(attempts.max, 1, 'the outage used no attempts: every mail went out on its first');
  },
);
