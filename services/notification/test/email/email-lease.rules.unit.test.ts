import t from 'tap';
import { beforeSending, leaseAllowsSending, settleAttempt } from '../../src/email/email.rules.ts';
import { describeTime, renderMail } from '../../src/email/email.templates.ts';

const now = new Date('2026-03-01T10:00:00Z');
const policy = { maxAttempts: 3, baseMs: 1000, maxMs: 10_000 };

t.test('a leased mail goes on the wire only while it still has a point and an address', async (t) => {
  const mail = { expiresAt: new Date('2026-03-01T12:00:00Z'), recipient: 'a@example.org' };
  t.equal(beforeSending(mail, now), 'send');
  t.equal(beforeSending({ ...mail, expiresAt: null }, now), 'send');
  t.equal(beforeSending(mail, new Date('2026-03-01T12:00:00Z')), 'expired', 'expired at the exact moment');
  t.equal(beforeSending({ ...mail, recipient: null }, now), 'cancelled', 'erased while leased');
  t.equal(beforeSending({ expiresAt: new Date(0), recipient: null }, now), 'expired');
});

t.test('a leased mail goes on the wire only in the first half of its lease', async (t) => {
  const until = new Date(now.getTime() + 10_000);
  t.ok(leaseAllowsSending(until, 10_000, now), 'just leased');
  t.ok(leaseAllowsSending(until, 10_000, new Date(now.getTime() + 4_999)), 'just before half');
  t.notOk(leaseAllowsSending(until, 10_000, new Date(now.getTime() + 5_000)), 'at half');
  t.notOk(leaseAllowsSending(until, 10_000, new Date(now.getTime() + 20_000)), 'after the lease');
  t.notOk(leaseAllowsSending(null, 10_000, now), 'not leased');
});

t.test('settling an attempt: the lease counted it; errors lose the address', async (t) => {
  const mail = { attempts: 1, recipient: 'a@example.org', dueAt: new Date(now.getTime() - 60_000) };
  t.same(settleAttempt({ kind: 'sent' }, mail, now, policy), { status: 'sent', sentAt: now });
  t.same(settleAttempt('expired', mail, now, policy), { status: 'expired' });
  t.same(settleAttempt('cancelled', mail, now, policy), { status: 'cancelled' });
  t.same(
    settleAttempt('held', mail, now, policy),
    { status: 'waiting', dueAt: mail.dueAt, error: null },
    'held back for its lease: back in the queue at once, in its place',
  );
  t.same(
    settleAttempt(
      { kind: 'unreachable', error: 'connect ECONNREFUSED for a@example.org' },
      mail,
      now,
      policy,
    ),
    { status: 'waiting', dueAt: mail.dueAt, error: 'connect ECONNREFUSED for <recipient>' },
    'no server: back in the queue in its place, the attempt given back',
  );
  const deferred = { kind: 'transient', smtpCode: 451, error: '451 later for a@example.org' } as const;
  t.same(settleAttempt(deferred, mail, now, policy), {
    status: 'queued',
    nextAttemptAt: new Date(now.getTime() + 1000),
    error: '451 later for <recipient>',
    smtpCode: 451,
  });
  t.same(
    settleAttempt(deferred, { ...mail, attempts: 2 }, now, policy),
    {
      status: 'queued',
      nextAttemptAt: new Date(now.getTime() + 2000),
      error: '451 later for <recipient>',
      smtpCode: 451,
    },
    'the delay doubles with the attempts the leases counted',
  );
  t.match(settleAttempt(deferred, { ...mail, attempts: 3 }, now, policy), {
    status: 'failed',
    reason: 'retries_exhausted',
    suppress: false,
    failedAt: now,
  });
  const rejected = { kind: 'permanent', smtpCode: 550, error: '550 unknown user' } as const;
  t.match(settleAttempt(rejected, mail, now, policy), {
    status: 'failed',
    reason: 'rejected',
    suppress: true,
    smtpCode: 550,
  });
  t.match(
    settleAttempt(rejected, { ...mail, recipient: null }, now, policy),
    { status: 'failed', suppress: false },
    'no address to suppress',
  );
});

t.test('templates: kept paths and time descriptions give the same mail as before', async (t) => {
  const meeting = {
    title: 'CoP',
    startsAt: new Date('2026-03-12T12:00:00Z'),
    endsAt: new Date('2026-03-12T16:30:00Z'),
    timeZone: 'Europe/Amsterdam',
    venueName: 'Zaal',
    venueAddress: 'Straat 1',
    onlineUrl: null,
  };
  const first = describeTime(meeting.startsAt, meeting.endsAt, 'Europe/Amsterdam', 'nl');
  first.date = 'changed by a caller';
  t.same(describeTime(meeting.startsAt, meeting.endsAt, 'Europe/Amsterdam', 'nl'), {
    date: 'donderdag 12 maart 2026',
    time: '13:00 – 17:30',
    timeZone: 'Europe/Amsterdam',
  });
  t.equal(
    describeTime(meeting.startsAt, meeting.endsAt, 'Europe/Amsterdam', 'en').date,
    'Thursday, 12 March 2026',
  );
  const data = (name: string) => ({
    name,
    meeting,
    manageUrl: `https://x/m/${name}`,
    reminderOffset: 'P1D',
    unsubscribeUrl: 'https://x/u',
  });
  const a = renderMail('reminder', 'nl', data('Anna <b>'));
  const b = renderMail('reminder', 'nl', data('Bram'));
  t.match(a.html, /Anna &lt;b&gt;/, 'HTML still escapes');
  t.match(a.text, /Anna <b>/, 'text does not');
  t.match(b.text, /Bram/);
  t.notMatch(b.text, /Anna/, 'nothing of one mail leaks into the next');
  t.match(b.html, /donderdag 12 maart 2026, 13:00 – 17:30/);
});
