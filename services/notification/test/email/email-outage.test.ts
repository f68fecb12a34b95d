import { eventually } from '@citydeals/testkit';
import { sql } from 'kysely';
import pino from 'pino';
import t from 'tap';
import { insertEmails } from '../../src/email/email.repository.ts';
import { EmailSender } from '../../src/email/email.sender.ts';
import { createMailTransport } from '../../src/email/mail.transport.ts';
import { notificationSchema } from '../harness.ts';
import { queuedMail, startSmtpServer, testClock, testEmailContext } from './email.fixture.ts';

const schemaUnderTest = await notificationSchema();
t.teardown(() => schemaUnderTest.close());
const { db, indexPlannedDb } = schemaUnderTest;

const ctx = testEmailContext(testClock());

t.test(
  'SMTP down, then back on its port: every waiting mail goes out promptly, once, in due order',
  async (t) => {
    const first = await startSmtpServer({ parse: false });
    const port = first.port;
    await first.close();
    const transport = createMailTransport({ smtpUrl: first.url, mailDir: '/nonexistent', maxConnections: 1 });
    const sender = new EmailSender(
      indexPlannedDb,
      ctx,
      transport,
      {
        batchSize: 5,
        concurrency: 1,
        pollMs: 50,
        leaseMs: 60_000,
        // One mail on the wire at a time, so the order they arrive in is the order they were taken in.
        maxInFlight: 1,
        probeMs: 100,
        retry: { maxAttempts: 3, baseMs: 60_000, maxMs: 60_000 },
      },
      pino({ level: 'silent' }),
    );
    let back: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    t.teardown(async () => {
      await sender.stop();
      await back?.close();
    });

    const now = Date.now();
    const mails = Array.from({ length: 20 }, (_, i) => queuedMail(i, { created_at: new Date(now) }));
    await db.transaction().execute((trx) => insertEmails(trx, mails));
    // Due one second apart, in the reverse of their insert order: the order out must follow the due time.
    for (const [i, mail] of mails.entries()) {
      await sql`update email set next_attempt_at = ${new Date(now - 60_000 + (mails.length - i) * 1_000)}
      where id = ${mail.id}`.execute(db);
    }
    const dueOrder = [...mails].reverse().map((m) => m.message_id);

    sender.start();
    t.ok(
      await eventually(() => sender.stats.outages >= 1 && sender.stats.waited >= 5),
      'the outage was seen',
    );
    // Longer than many probe intervals: nothing may be tried at the mails' expense meanwhile.
    await new Promise((r) => setTimeout(r, 1_500));
    const during = await db.selectFrom('email').select(['status', 'attempts', 'leased_until']).execute();
    t.ok(
      during.every((r) => r.status === 'queued' && r.attempts === 0 && r.leased_until === null),
      'while the server is down every mail waits queued with no attempt used',
    );
    t.equal(sender.stats.outages, 1, 'one outage, probed rather than retried mail by mail');

    back = await startSmtpServer({ parse: false, port });
    const server = back;
    t.ok(
      await eventually(() => server.received.length >= mails.length, 10_000),
      'every waiting mail delivered within seconds of the server coming back',
    );
    await new Promise((r) => setTimeout(r, 300));
    const received = server.received.map((m) => m.messageId);
    t.equal(received.length, mails.length, 'none twice');
    t.same(received, dueOrder, 'in the order they were due');
    const after = await db.selectFrom('email').select(['status', 'attempts']).execute();
    t.ok(
      after.every((r) => r.status === 'sent' && r.attempts === 1),
      'each sent on its first counted attempt',
    );
  },
);
