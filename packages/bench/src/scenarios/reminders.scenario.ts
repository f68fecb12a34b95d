import { createTestDatabase, uniqueName } from '@citydeals/testkit';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { runGraphileWorkerPeer } from '../peers/graphile-worker.peer.ts';
import { type RenderedMail, toNodemailerMessage } from '../peers/reminder-mail.ts';
import { type BenchRow, round, throughputRatio } from '../report.ts';
import { type RunningService, removeNamespace, startService, stopService, waitUntil } from '../services.ts';
import { type AcceptedMail, type SmtpSink, startSmtpSink } from '../sinks.ts';

export const REMINDERS = Number(process.env.BENCH_REMINDERS ?? 10_000);
/** The service's default SMTP_MAX_CONNECTIONS; the raw client gets the same number of pooled connections. */
const SMTP_CONNECTIONS = 5;
const SCHEMA = 'notification';
/** Twice the SMTP connections, so that every connection has a next mail waiting while one is in flight. */
const GRAPHILE_WORKER_CONCURRENCY = Number(process.env.BENCH_GW_CONCURRENCY ?? 10);

/**
 * 10 000 reminders due at once: the notification service's dispatcher turns them into queued mails and its
 * sender delivers them to a local SMTP server, against pooled nodemailer sending the very same mails.
 */
export async function remindersScenario(): Promise<BenchRow> {
  const database = await createTestDatabase('cd_bench_rem');
  const ns = uniqueName('brem');
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  let sink: SmtpSink | undefined;
  let service: RunningService | undefined;
  try {
    sink = await startSmtpSink();
    service = await startService('notification', {
      DATABASE_URL: database.url,
      EVENT_NAMESPACE: ns,
      SMTP_URL: sink.smtpUrl,
    });
    const started = await seedDueReminders(pool);
    const smtp = sink;
    await waitUntil(
      async () => (await smtp.count()) >= REMINDERS,
      420_000,
      async () => `SMTP server accepted ${await smtp.count()} of ${REMINDERS} reminders`,
      50,
    );
    // A second look after a pause: a duplicate sent late would show up here.
    await new Promise((r) => setTimeout(r, 1000));
    const sysMails = await sink.mails();
    assertExactlyOnce('system', sysMails, 'reminder');
    const { rows: states } = await pool.query<{ sent: number; queued: number }>(
      `select (select count(*)::int from ${SCHEMA}.email where kind = 'reminder' and status = 'sent') as sent,
              (select count(*)::int from ${SCHEMA}.reminder where status = 'queued') as queued`,
    );
    if (states[0]!.sent !== REMINDERS || states[0]!.queued !== REMINDERS) {
      throw new Error(
        `database: ${states[0]!.sent} reminder mails sent, ${states[0]!.queued} reminders queued`,
      );
    }
    const sysSeconds = (Math.max(...sysMails.map((m) => m.at)) - started) / 1000;
    await stopService(service, 'reminders');
    service = undefined;

    // Raw: the mails the service rendered, byte for byte the same content, straight through nodemailer.
    const { rows: mails } = await pool.query<RenderedMail>(
      `select recipient, subject, text_body, html_body, message_id, unsubscribe_url, created_at
       from ${SCHEMA}.email where kind = 'reminder'`,
    );
    await sink.reset();
    const port = sink.port;
    const transporter = nodemailer.createTransport({
      pool: true,
      host: '127.0.0.1',
      port,
      secure: false,
      maxConnections: SMTP_CONNECTIONS,
      maxMessages: Number.POSITIVE_INFINITY,
    });
    const rawStarted = Date.now();
    await Promise.all(mails.map((m) => transporter.sendMail(toNodemailerMessage(m))));
    transporter.close();
    const rawMails = await sink.mails();
    assertExactlyOnce('raw', rawMails, 'reminder');
    const rawSeconds = (Math.max(...rawMails.map((m) => m.at)) - rawStarted) / 1000;

    // Peer: the same mails as graphile-worker jobs, sent by its worker through the same pooled transport.
    await sink.reset();
    const peerStarted = (
      await runGraphileWorkerPeer({
        mails,
        sink,
        concurrency: GRAPHILE_WORKER_CONCURRENCY,
        smtpConnections: SMTP_CONNECTIONS,
      })
    ).started;
    await new Promise((r) => setTimeout(r, 1000));
    const peerMails = await sink.mails();
    assertExactlyOnce('graphile-worker', peerMails, 'reminder');
    const peerSeconds = (Math.max(...peerMails.map((m) => m.at)) - peerStarted) / 1000;

    const system = {
      label: `${REMINDERS} due reminders → dispatcher → sender → SMTP 250, each Message-ID once`,
      value: round(REMINDERS / sysSeconds, 0),
      unit: 'mails/s',
    };
    const raw = {
      label: `pooled nodemailer (${SMTP_CONNECTIONS} connections), same ${REMINDERS} mails`,
      value: round(REMINDERS / rawSeconds, 0),
      unit: 'mails/s',
    };
    const peer = {
      label: `graphile-worker 0.17 (concurrency ${GRAPHILE_WORKER_CONCURRENCY}, job key per mail, same pooled transport), same ${REMINDERS} mails`,
      value: round(REMINDERS / peerSeconds, 0),
      unit: 'mails/s',
    };
    return {
      scenario: '10 000 reminders due at once',
      system,
      raw,
      ratio: throughputRatio(system, raw),
      peer,
      peerRatio: throughputRatio(system, peer),
      goal: '≥ 0.85 (graphile-worker ≈ 0.81)',
      note: 'reminder rows seeded with SQL as the service plans them; service defaults (MAIL_SENDERS 4, SMTP_MAX_CONNECTIONS 5)',
    };
  } finally {
    await stopService(service, 'reminders');
    await sink?.stop();
    await pool.end();
    await removeNamespace(ns).catch(() => {});
    await database.drop();
  }
}

/**
 * Writes what the service itself writes when a confirmed attendee's `attendee.registered` arrives for a
 * published meeting (read models plus one pending reminder per offset, see reminder.service.ts planRemindersFor),
 * for 10 000 attendees of one meeting whose P1D reminder came due a minute ago. Going through 10 000 events
 * would also send 10 000 confirmation mails first and cost a minute of the run; the dispatch and send path
 * measured here is the same. Returns the commit moment (Date.now()): from then on, all of them are due.
 */
export async function seedDueReminders(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ id: string }>(
      `insert into ${SCHEMA}.meeting (id, version, title, starts_at, ends_at, time_zone, venue_name, venue_address,
         online_url, language, reminder_offsets, status, ics_sequence)
       values (gen_random_uuid(), 1, 'Benchmark: herinneringen', now() + interval '1 day' - interval '1 minute',
         now() + interval '1 day 4 hours', 'Europe/Amsterdam', 'Benchmarkzaal', 'Voorbeeldstraat 1, Den Haag',
         null, 'nl', array['P1D'], 'published', 0)
       returning id`,
    );
    const meetingId = rows[0]!.id;
    await client.query(
      `insert into ${SCHEMA}.recipient (registration_id, meeting_id, version, status, name, email, language,
         position, manage_url)
       select gen_random_uuid(), $1, 1, 'confirmed', 'Deelnemer ' || n, 'herinnering-' || n || '@example.org', 'nl',
         null, 'https://cop.example.org/aanmelding/beheren/bench' || n
       from generate_series(1, $2::int) as n`,
      [meetingId, REMINDERS],
    );
    await client.query(
      `insert into ${SCHEMA}.reminder (registration_id, meeting_id, reminder_offset, due_at, status, email_id)
       select r.registration_id, r.meeting_id, 'P1D', m.starts_at - interval '1 day', 'pending', null
       from ${SCHEMA}.recipient r join ${SCHEMA}.meeting m on m.id = r.meeting_id
       where r.meeting_id = $1`,
      [meetingId],
    );
    await client.query('commit');
    return Date.now();
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export function assertExactlyOnce(who: string, mails: AcceptedMail[], kind: string): void {
  const ofKind = mails.filter((m) => m.kind === kind);
  const distinct = new Set(ofKind.map((m) => m.messageId)).size;
  if (ofKind.length !== REMINDERS || distinct !== REMINDERS || mails.length !== REMINDERS) {
    throw new Error(
      `${who}: SMTP server got ${mails.length} mails, ${ofKind.length} ${kind} mails with ${distinct} distinct Message-IDs; expected exactly ${REMINDERS}`,
    );
  }
}
