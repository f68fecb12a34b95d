import { randomUUID } from 'node:crypto';
import { eventually } from '@citydeals/testkit';
import pino from 'pino';
import t from 'tap';
import { cancelQueuedEmails, insertEmails, type NewEmail } from '../../src/email/email.repository.ts';
import { EmailSender, type SenderOptions } from '../../src/email/email.sender.ts';
import { createMailTransport, type MailTransport } from '../../src/email/mail.transport.ts';
import { notificationSchema } from '../harness.ts';
import { queuedMail, startSmtpServer, testClock, testEmailContext } from './email.fixture.ts';

const LEASE_MS = 60_000;
/** A renewal interval no test outlasts: a sender that renews nothing, as a frozen one. */
const FROZEN = 3_600_000;
const schemaUnderTest = await notificationSchema();
const { db, indexPlannedDb } = schemaUnderTest;
const smtp = await startSmtpServer({ parse: false });
const transport = createMailTransport({ smtpUrl: smtp.url, mailDir: '/nonexistent', maxConnections: 3 });
t.teardown(async () => {
  transport.close();
  await schemaUnderTest.close();
  await smtp.close();
});

const clock = testClock();
const ctx = testEmailContext(clock);
const options: SenderOptions = {
  batchSize: 10,
  concurrency: 1,
  pollMs: 50,
  leaseMs: LEASE_MS,
  maxInFlight: 5,
  retry: { maxAttempts: 5, baseMs: 1000, maxMs: 10_000 },
  probeMs: 100,
};
const logger = pino({ level: 'silent' });

async function queueMails(registrationId: string, count: number): Promise<NewEmail[]> {
  const mails = Array.from({ length: count }, (_, i) =>
    queuedMail(i, { registration_id: registrationId, created_at: clock.now() }),
  );
  await db.transaction().execute((trx) => insertEmails(trx, mails));
  return mails;
}

const rowsOf = (registrationId: string) =>
  db
    .selectFrom('email')
    .select(['id', 'status', 'attempts', 'leased_until', 'message_id'])
    .where('registration_id', '=', registrationId)
    .execute();

const sentEvents = async (ids: readonly string[]) => {
  const rows = await db
    .selectFrom('outbox')
    .select('payload')
    .where('subject', 'like', '%email.sent%')
    .execute();
  return rows
    .map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload))
    .filter((p) => ids.includes(p.data.emailId));
};

t.test(
  'a sender that dies between SMTP 250 and its record: another sends its mails when the lease ends, same Message-ID; its late record changes nothing',
  async (t) => {
    const registrationId = randomUUID();
    const mails = await queueMails(registrationId, 6);
    const ids = mails.map((m) => m.id);
    // Replica A: every send is accepted by the SMTP server, then A hangs before it can record anything.
    let wakeA!: () => void;
    const hung = new Promise<void>((resolve) => {
      wakeA = resolve;
    });
    const hangingTransport: MailTransport = {
      kind: 'smtp',
      async send(mail, from) {
        await transport.send(mail, from);
        await hung;
      },
      probe: () => transport.probe(),
      close() {},
    };
    // Frozen, A renews nothing either: its lease runs out as a dead sender's does.
    const a = new EmailSender(
      indexPlannedDb,
      ctx,
      hangingTransport,
      { ...options, batchSize: 4, renewMs: FROZEN },
      logger,
    );
    const aRound = a.runOnce();
    t.ok(await eventually(() => smtp.received.length >= 4), 'A got its 4 mails accepted');
    const leasedByA = smtp.received.map((m) => m.messageId);

    // Replica B at the same moment: A's lease holds, B takes only the other two.
    const b = new EmailSender(indexPlannedDb, ctx, transport, options, logger);
    t.equal(await b.runOnce(), 2, 'B leases only what A does not hold');
    t.equal(await b.runOnce(), 0, 'nothing else is due while the lease holds');
    t.same(
      (await rowsOf(registrationId)).filter((r) => r.status === 'sent').length,
      2,
      "B's two are recorded as sent",
    );

    // A never comes back in time: once its lease has run out, B sends A's mails again.
    clock.advanceTo(new Date(clock.now().getTime() + LEASE_MS + 1000));
    t.equal(await b.runOnce(), 4, "B takes over A's mails after the lease");
    const rows = await rowsOf(registrationId);
    t.same(
      rows.map((r) => [r.status, r.leased_until]),
      rows.map(() => ['sent', null]),
      'all six recorded as sent, no lease left',
    );
    const byMessageId = new Map<string, number>();
    for (const m of smtp.received) byMessageId.set(m.messageId, (byMessageId.get(m.messageId) ?? 0) + 1);
    t.equal(byMessageId.size, 6, 'six distinct mails at the SMTP server');
    t.same(
      [...byMessageId]
        .filter(([, n]) => n > 1)
        .map(([id]) => id)
        .sort(),
      [...leasedByA].sort(),
      "only A's in-flight mails arrived twice, under the same Message-ID",
    );
    t.same(
      rows.filter((r) => leasedByA.includes(r.message_id)).map((r) => r.attempts),
      [2, 2, 2, 2],
      "A's lease counted an attempt",
    );

    // A wakes up late: its record is fenced off by the new lease; no second event, nothing changed back.
    wakeA();
    t.equal(await aRound, 4);
    t.equal(a.stats.lostLeases, 4, 'A recorded none of its outcomes');
    t.equal(a.stats.sent, 0);
    t.equal((await sentEvents(ids)).length, 6, 'exactly one email.sent event per mail');
    t.same(
      (await rowsOf(registrationId)).map((r) => r.status),
      rows.map(() => 'sent'),
    );
  },
);

t.test('a mail on the wire is not withdrawn; one whose lease ran out is', async (t) => {
  const registrationId = randomUUID();
  await queueMails(registrationId, 1);
  const now = clock.now();
  // Lease it the way a sender does, and "crash".
  const leaseUntil = new Date(now.getTime() + LEASE_MS);
  await db
    .updateTable('email')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      next_attempt_at: leaseUntil,
      leased_until: leaseUntil,
    }))
    .where('registration_id', '=', registrationId)
    .execute();
  const cancel = (at: Date) =>
    db
      .transaction()
      .execute((trx) =>
        cancelQueuedEmails(trx, at, { registrationIds: [registrationId], kinds: ['reminder'] }),
      );
  t.equal(await cancel(now), 0, 'leased: left to its sender');
  t.equal((await rowsOf(registrationId))[0]!.status, 'queued');
  t.equal(await cancel(new Date(leaseUntil.getTime() + 1)), 1, 'lease over: withdrawn');
  t.equal((await rowsOf(registrationId))[0]!.status, 'cancelled');
  const b = new EmailSender(indexPlannedDb, ctx, transport, options, logger);
  clock.advanceTo(new Date(leaseUntil.getTime() + 1000));
  t.equal(await b.runOnce(), 0, 'a withdrawn mail is never leased again');
});

t.test(
  'a leased mail that waited past half its lease for a connection is held back, not sent, and goes back to the queue at once: sent once, by the next lease',
  async (t) => {
    const registrationId = randomUUID();
    const mails = await queueMails(registrationId, 3);
    // One connection, and the first send is slow: by the time it is done, 60 % of the lease has gone by.
    let slowFirst = true;
    const slowTransport: MailTransport = {
      kind: 'smtp',
      async send(mail, from) {
        await transport.send(mail, from);
        if (slowFirst) {
          slowFirst = false;
          clock.advanceTo(new Date(clock.now().getTime() + LEASE_MS * 0.6));
        }
      },
      probe: () => transport.probe(),
      close() {},
    };
    const before = smtp.received.length;
    // No renewal lands meanwhile (the database too slow to answer it, say): the lease is all A knows.
    const a = new EmailSender(
      indexPlannedDb,
      ctx,
      slowTransport,
      { ...options, maxInFlight: 1, renewMs: FROZEN },
      logger,
    );
    t.equal(await a.runOnce(), 3, 'three leased');
    t.equal(a.stats.sent, 1, 'one sent');
    t.equal(a.stats.held, 2, 'two held back for their lease');
    t.equal(smtp.received.length - before, 1, 'only one reached the SMTP server');
    const held = (await rowsOf(registrationId)).filter((r) => r.status === 'queued');
    t.equal(held.length, 2, 'the held ones stay queued');
    t.ok(
      held.every((r) => r.leased_until === null && r.attempts === 0),
      'released at once, their attempt given back',
    );

    t.equal(await a.runOnce(), 2, 'taken again without waiting for the lease to end');
    const received = smtp.received.slice(before).map((m) => m.messageId);
    t.same(
      [...received].sort(),
      mails.map((m) => m.message_id).sort(),
      'each of the three at the SMTP server exactly once',
    );
    t.same(
      (await rowsOf(registrationId)).map((r) => r.status),
      ['sent', 'sent', 'sent'],
    );
    t.equal((await sentEvents(mails.map((m) => m.id))).length, 3, 'one email.sent event per mail');
  },
);

t.test('an idle sender polls once per interval, however many batches it may hold', async (t) => {
  const sender = new EmailSender(
    indexPlannedDb,
    ctx,
    transport,
    { ...options, concurrency: 4, pollMs: 50 },
    logger,
  );
  const started = performance.now();
  sender.start();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const idle = sender.stats.leases;
  const polls = (performance.now() - started) / 50;
  // Four loops each polling, as senders once did, would be about four times the polls.
  t.ok(idle >= 2, `it keeps polling: ${idle} leases`);
  t.ok(
    idle <= polls + 2,
    `one lease per poll interval at most: ${idle} leases in ${Math.round(polls)} intervals`,
  );
  t.equal(sender.stats.emptyLeases, idle, 'all of them empty: nothing was due');

  // A mail queued with no wake-up (another replica's, say) is still found by the poll.
  const registrationId = randomUUID();
  const [mail] = await queueMails(registrationId, 1);
  t.ok(
    await eventually(async () => (await rowsOf(registrationId))[0]?.status === 'sent'),
    'found by the poll and sent',
  );
  await sender.stop();
  t.ok(
    smtp.received.some((m) => m.messageId === mail!.message_id),
    'the SMTP server got it',
  );
});

t.test(
  'a send slower than the lease: its sender renews the lease while the SMTP server holds the answer, a second sender takes nothing, the mail arrives once',
  async (t) => {
    // The first message's 250 is held until the test lets it go; any later one is answered at once.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    let held = 0;
    const slowSmtp = await startSmtpServer({
      parse: false,
      holdAnswer: () => (held++ === 0 ? answered : undefined),
    });
    const slowTransport = createMailTransport({
      smtpUrl: slowSmtp.url,
      mailDir: '/nonexistent',
      maxConnections: 2,
    });
    t.teardown(async () => {
      answer();
      slowTransport.close();
      await slowSmtp.close();
    });
    const registrationId = randomUUID();
    const [mail] = await queueMails(registrationId, 1);

    const a = new EmailSender(indexPlannedDb, ctx, slowTransport, { ...options, renewMs: 20 }, logger);
    const aRound = a.runOnce();
    t.ok(await eventually(() => held === 1), "the SMTP server has A's mail and holds its answer");
    // Past the end of the lease A took: only a renewal keeps the mail A's.
    clock.advanceTo(new Date(clock.now().getTime() + LEASE_MS + 1000));
    t.ok(
      await eventually(async () => {
        const [row] = await rowsOf(registrationId);
        return row?.leased_until != null && new Date(row.leased_until) > clock.now();
      }),
      'A renews its lease while it waits for the answer',
    );
    const b = new EmailSender(indexPlannedDb, ctx, slowTransport, options, logger);
    t.equal(await b.runOnce(), 0, 'B takes nothing from a sender that is slow but alive');

    answer();
    t.equal(await aRound, 1);
    t.equal(a.stats.sent, 1, 'A records it as sent');
    t.equal(a.stats.lostLeases, 0, 'A never lost the lease');
    t.same(
      slowSmtp.received.map((m) => m.messageId),
      [mail!.message_id],
      'the SMTP server got the mail exactly once',
    );
    const [row] = await rowsOf(registrationId);
    t.same([row?.status, row?.attempts, row?.leased_until], ['sent', 1, null], 'sent, one attempt');
    t.equal((await sentEvents([mail!.id])).length, 1, 'one email.sent event');
  },
);

t.test(
  "under a schedule shift (REMINDER_CLOCK_SHIFT_MS) a mail's expiry is judged on the wall clock: a link valid for an hour is sent, one past its end is not",
  async (t) => {
    const registrationId = randomUUID();
    const realNow = Date.now();
    const fresh = queuedMail(0, {
      registration_id: registrationId,
      created_at: new Date(realNow),
      expires_at: new Date(realNow + 3_600_000),
    });
    const stale = queuedMail(1, {
      registration_id: registrationId,
      created_at: new Date(realNow),
      expires_at: new Date(realNow - 60_000),
    });
    await db.transaction().execute((trx) => insertEmails(trx, [fresh, stale]));
    const wall = testClock();
    // As emailContextFor builds it with a two-day shift: the schedule's clock ahead, the wall clock real.
    const shifted = {
      ...testEmailContext({ now: () => new Date(wall.now().getTime() + 2 * 86_400_000) }),
      wallClock: wall,
    };
    const ownTransport = createMailTransport({
      smtpUrl: smtp.url,
      mailDir: '/nonexistent',
      maxConnections: 1,
    });
    t.teardown(() => ownTransport.close());
    const sender = new EmailSender(indexPlannedDb, shifted, ownTransport, options, logger);
    t.equal(await sender.runOnce(), 2, 'both leased');
    const status = Object.fromEntries((await rowsOf(registrationId)).map((r) => [r.id, r.status]));
    t.same(
      status,
      { [fresh.id]: 'sent', [stale.id]: 'expired' },
      'the fresh link is sent, the stale one expired',
    );
    t.ok(
      smtp.received.some((m) => m.messageId === fresh.message_id),
      'the fresh one reached the SMTP server',
    );
  },
);
