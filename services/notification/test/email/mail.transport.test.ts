import t from 'tap';
import type { EmailRow } from '../../src/email/email.repository.ts';
import { createMailTransport, type MailFrom } from '../../src/email/mail.transport.ts';
import { startSmtpServer } from './email.fixture.ts';

const from: MailFrom = {
  name: 'City Deals',
  address: 'cop@example.org',
  header: 'City Deals <cop@example.org>',
};

function mail(id: number, recipient: string, text: string): EmailRow {
  const now = new Date('2026-11-29T10:00:00Z');
  return {
    id: `0193a1b2-0000-7000-8000-${String(id).padStart(12, '0')}`,
    kind: 'reminder',
    meeting_id: null,
    registration_id: null,
    reminder_offset: null,
    recipient,
    language: 'nl',
    subject: 'Herinnering: Community of Practice',
    text_body: text,
    html_body: '<p>Tot morgen.</p>',
    ics: null,
    ics_method: null,
    unsubscribe_url: null,
    message_id: `<transport-${id}@test.example.org>`,
    dedupe_key: null,
    status: 'queued',
    version: 1,
    attempts: 1,
    next_attempt_at: now,
    leased_until: null,
    traceparent: null,
    expires_at: null,
    last_error: null,
    smtp_code: null,
    created_at: now,
    updated_at: now,
    sent_at: null,
    failed_at: null,
  };
}

t.test('the SMTP transport hands finished messages to the pool as they are', async (t) => {
  const smtp = await startSmtpServer({
    reply: (address) => (address.startsWith('gone') ? 550 : address.startsWith('busy') ? 451 : undefined),
  });
  const transport = createMailTransport({ smtpUrl: smtp.url, mailDir: '/nonexistent', maxConnections: 2 });
  t.teardown(async () => {
    transport.close();
    await smtp.close();
  });

  // More mails than connections: the pool queues them and sends each over whichever connection is free.
  const mails = Array.from({ length: 12 }, (_, i) =>
    mail(i, `attendee${i}@example.org`, `Beste deelnemer ${i},\n.\n..twee punten\nTot morgen.\n`),
  );
  await Promise.all(mails.map((m) => transport.send(m, from)));
  t.equal(smtp.received.length, 12, 'every mail accepted once');
  for (const m of mails) {
    const got = smtp.to(m.recipient!);
    t.equal(got.length, 1, `${m.recipient} got one mail`);
    t.equal(got[0]?.messageId, m.message_id, 'with the stored Message-ID');
    // A line of a lone dot would end the DATA phase: the pool must still dot-stuff what it is handed.
    t.equal(got[0]?.parsed.text?.trim(), m.text_body!.trim(), 'the text, dots and all');
  }

  // A recipient outside ASCII goes through nodemailer's composer, and its envelope with it.
  const utf8 = mail(20, 'jöran@bücher.example.org', 'Hallo Jöran');
  await transport.send(utf8, from);
  t.equal(smtp.received.at(-1)?.messageId, utf8.message_id, 'composed by nodemailer, same Message-ID');
  t.match(smtp.received.at(-1)?.to, /bücher|xn--bcher/, 'delivered to that recipient');

  // The server's refusals reach the caller with their codes, which decide retry or give up.
  const refusal = (m: EmailRow) =>
    transport.send(m, from).then(
      () => 'accepted',
      (err: { responseCode?: number }) => err.responseCode,
    );
  t.equal(await refusal(mail(30, 'gone@example.org', 'x')), 550, 'a permanent refusal, with its code');
  t.equal(await refusal(mail(31, 'busy@example.org', 'x')), 451, 'a temporary refusal, with its code');
  // And the pool goes on after them.
  await transport.send(mail(32, 'after@example.org', 'y'), from);
  t.equal(smtp.to('after@example.org').length, 1, 'a refusal does not break the pool');
});
