import { createTestDatabase, uniqueName } from '@citydeals/testkit';
import pg from 'pg';
import { sendWithPooledNodemailer } from '../peers/pooled-nodemailer.ts';
import type { RenderedMail } from '../peers/reminder-mail.ts';
import { type BenchRow, round, throughputRatio } from '../report.ts';
import {
  adminHeaders,
  type RunningService,
  removeNamespace,
  startService,
  stopService,
  waitUntil,
} from '../services.ts';
import { type AcceptedMail, type SmtpSink, startSmtpSink } from '../sinks.ts';
import { createMeeting } from './registration.scenario.ts';

export const ATTENDEES = Number(process.env.BENCH_MESSAGE_ATTENDEES ?? 2000);
/** The service's default SMTP_MAX_CONNECTIONS; the pooled client gets the same number of connections. */
const SMTP_CONNECTIONS = 5;
/** Registrations in flight while the meeting fills (setting up, not measured). */
const REGISTERING_CONCURRENCY = 16;
const KIND = 'attendee_message';

/**
 * One message from the office to a meeting's 2 000 attendees, end to end: the registration API stores it
 * and writes one `attendee.message_requested` per attendee through its outbox → relay → JetStream →
 * notification's consumer queues one mail each → sender → SMTP 250. Against pooled nodemailer sending the
 * very same 2 000 rendered mails to the same SMTP server, in the same run.
 */
export async function messageScenario(): Promise<BenchRow> {
  const database = await createTestDatabase('cd_bench_msg');
  const ns = uniqueName('bmsg');
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  let sink: SmtpSink | undefined;
  let registration: RunningService | undefined;
  let notification: RunningService | undefined;
  try {
    sink = await startSmtpSink();
    const env = { DATABASE_URL: database.url, EVENT_NAMESPACE: ns };
    registration = await startService('registration', env);
    notification = await startService('notification', { ...env, SMTP_URL: sink.smtpUrl });
    const meetingId = await createMeeting(registration.base, 'message', ATTENDEES);
    const registering = registration;
    await fillMeeting(registering.base, meetingId).catch((err: Error) => {
      throw new Error(`${err.message}\n${registering.output().slice(-3000)}`);
    });
    // Every attendee known to notification with their confirmation sent: the message then meets a quiet
    // system, and its mails are the only ones on the wire.
    const smtp = sink;
    await waitUntil(
      async () => (await smtp.count()) >= ATTENDEES,
      300_000,
      async () => `SMTP server accepted ${await smtp.count()} of ${ATTENDEES} confirmations`,
      100,
    );
    await new Promise((r) => setTimeout(r, 1000));
    await sink.reset();

    const started = Date.now();
    const res = await fetch(`${registration.base}/admin/meetings/${meetingId}/messages`, {
      method: 'POST',
      headers: adminHeaders(),
      body: JSON.stringify({
        statuses: ['confirmed'],
        texts: {
          nl: {
            subject: 'Praktische informatie',
            body: 'De zaal is open vanaf 12:30.\n\nNeem je legitimatie mee voor de toegang tot het terrein.',
          },
        },
      }),
    });
    if (res.status !== 201) throw new Error(`sending the message: ${res.status} ${await res.text()}`);
    const answeredMs = Date.now() - started;
    await waitUntil(
      async () => (await smtp.count()) >= ATTENDEES,
      300_000,
      async () => `SMTP server accepted ${await smtp.count()} of ${ATTENDEES} messages`,
      50,
    );
    // A second look after a pause: a duplicate sent late would show up here.
    await new Promise((r) => setTimeout(r, 1000));
    const sysMails = await sink.mails();
    assertExactlyOnce('system', sysMails);
    const sysSeconds = (Math.max(...sysMails.map((m) => m.at)) - started) / 1000;
    const firstMs = Math.min(...sysMails.map((m) => m.at)) - started;
    const stages = await stagesOf(pool, started, sysMails);
    await stopService(registration, 'message');
    await stopService(notification, 'message');
    registration = undefined;
    notification = undefined;

    // Peer: the mails the service rendered, the same content, straight through pooled nodemailer.
    const { rows: mails } = await pool.query<RenderedMail>(
      `select recipient, subject, text_body, html_body, message_id, unsubscribe_url, created_at
       from notification.email where kind = $1`,
      [KIND],
    );
    if (mails.length !== ATTENDEES) throw new Error(`${mails.length} message mails stored, not ${ATTENDEES}`);
    await sink.reset();
    const rawStarted = await sendWithPooledNodemailer({
      mails,
      port: sink.port,
      connections: SMTP_CONNECTIONS,
      kind: KIND,
    });
    const rawMails = await sink.mails();
    assertExactlyOnce('pooled nodemailer', rawMails);
    const rawSeconds = (Math.max(...rawMails.map((m) => m.at)) - rawStarted) / 1000;

    const system = {
      label: `POST /admin/meetings/{id}/messages → ${ATTENDEES} events → notification queue → sender → SMTP 250, each once`,
      value: round(ATTENDEES / sysSeconds, 0),
      unit: 'mails/s',
    };
    const raw = {
      label: `pooled nodemailer (${SMTP_CONNECTIONS} connections), the same ${ATTENDEES} rendered mails`,
      value: round(ATTENDEES / rawSeconds, 0),
      unit: 'mails/s',
    };
    return {
      scenario: `a message to ${ATTENDEES} attendees`,
      system,
      raw,
      ratio: throughputRatio(system, raw),
      goal: '≥ 0.9',
      note:
        `from the request to the last 250; the API answered in ${answeredMs} ms, the first mail was accepted ` +
        `after ${firstMs} ms, the last after ${Math.round(sysSeconds * 1000)} ms; ${stages}; ${ATTENDEES} attendees registered through the API first (their confirmations ` +
        'sent before the message); service defaults (MAIL_SENDERS 4, SMTP_MAX_CONNECTIONS 5)',
    };
  } finally {
    await stopService(registration, 'message');
    await stopService(notification, 'message');
    await sink?.stop();
    await pool.end();
    await removeNamespace(ns).catch(() => {});
    await database.drop();
  }
}

/**
 * Where the time went, in ms after the request: the relay's last publish (outbox rows are marked in the
 * publishing transaction, so this is when it began), the first and last mail notification queued, and how
 * many the SMTP server had accepted when the last was queued.
 */
async function stagesOf(pool: pg.Pool, started: number, accepted: AcceptedMail[]): Promise<string> {
  const { rows } = await pool.query<{ published: number; first_queued: number; last_queued: number }>(
    `select (select extract(epoch from max(published_at)) * 1000 from registration.outbox
              where subject like '%attendee.message_requested')::float8 as published,
            (select extract(epoch from min(created_at)) * 1000 from notification.email where kind = $1)::float8
              as first_queued,
            (select extract(epoch from max(created_at)) * 1000 from notification.email where kind = $1)::float8
              as last_queued`,
    [KIND],
  );
  const at = (ms: number) => Math.round(ms - started);
  const row = rows[0]!;
  const sentWhileQueueing = accepted.filter((m) => m.at <= row.last_queued).length;
  return (
    `all events published by ${at(row.published)} ms; mails queued by notification from ` +
    `${at(row.first_queued)} to ${at(row.last_queued)} ms (${sentWhileQueueing} accepted by then)`
  );
}

/** Registers ATTENDEES people through the public API, a few at a time; every one must get a seat. */
async function fillMeeting(base: string, meetingId: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ATTENDEES) {
      const n = ++next;
      const res = await fetch(`${base}/meetings/${meetingId}/registrations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `Deelnemer ${n}`,
          email: `bericht-${n}@example.org`,
          organisation: 'Gemeente Voorbeeld',
          role: 'partner',
          consents: { photo: false, attendeeList: false },
        }),
      });
      const body = await res.text();
      if (res.status !== 201 || !body.includes('"confirmed"'))
        throw new Error(`registration ${n}: ${res.status} ${body}`);
    }
  };
  await Promise.all(Array.from({ length: REGISTERING_CONCURRENCY }, worker));
}

function assertExactlyOnce(who: string, mails: AcceptedMail[]): void {
  const ofKind = mails.filter((m) => m.kind === KIND);
  const distinct = new Set(ofKind.map((m) => m.to)).size;
  if (ofKind.length !== ATTENDEES || distinct !== ATTENDEES || mails.length !== ATTENDEES) {
    throw new Error(
      `${who}: SMTP server got ${mails.length} mails, ${ofKind.length} messages to ${distinct} addresses; expected exactly ${ATTENDEES}`,
    );
  }
}
