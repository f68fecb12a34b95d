import { streams } from '@citydeals/contracts';
import { connectNats, ensureStream, namespace } from '@citydeals/messaging';
import { createTestDatabase, testServers, uniqueName } from '@citydeals/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { runLoad } from '../processes.ts';
import { type BenchRow, round } from '../report.ts';
import { type RunningService, removeNamespace, startService, stopService, waitUntil } from '../services.ts';
import { type SmtpSink, startSmtpSink } from '../sinks.ts';
import { assertClean, createMeeting, DURATION_SECONDS, rawBaseline } from './registration.scenario.ts';

const RATE = 200;
const MEETINGS = 50;
/** Sequential samples of each raw step. */
const RAW_SAMPLES = 200;

/**
 * Register → confirmation mail accepted by the SMTP server, at a fixed 200 req/s: registration service
 * (HTTP, seat, outbox) → relay → JetStream → notification consumer (read model, reminders, mail queued) →
 * sender → SMTP 250. Each mail is matched to its request by the address, so the latency is per attendee.
 */
export async function confirmationE2eScenario(): Promise<BenchRow> {
  const database = await createTestDatabase('cd_bench_e2e');
  const ns = uniqueName('b2e');
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  let sink: SmtpSink | undefined;
  let registration: RunningService | undefined;
  let notification: RunningService | undefined;
  try {
    sink = await startSmtpSink();
    const env = { DATABASE_URL: database.url, EVENT_NAMESPACE: ns };
    registration = await startService('registration', env);
    notification = await startService('notification', { ...env, SMTP_URL: sink.smtpUrl });
    const base = registration.base;
    const meetings = await Promise.all(
      Array.from({ length: MEETINGS }, (_, i) => createMeeting(base, `e2e-${i}`, 100_000)),
    );
    // Attendee events for a meeting the notification service has not seen yet are retried later; wait, so
    // the figure is the steady state, not the start-up.
    await waitUntil(
      async () =>
        (await pool.query<{ n: number }>('select count(*)::int as n from notification.meeting')).rows[0]!.n >=
        MEETINGS,
      60_000,
      () => 'notification service did not learn the meetings',
    );
    const load = await runLoad({
      url: base,
      meetingIds: meetings,
      connections: 16,
      durationSeconds: DURATION_SECONDS,
      overallRate: RATE,
      recordStarts: true,
      label: 'e2e',
    });
    assertClean('e2e', load);
    const starts = load.starts ?? {};
    // autocannon counts only the answers that came within its duration, and requests still in flight
    // when it stops may commit after it returns: the stored registrations are the truth, and each must
    // get exactly one confirmation.
    const countRegistered = async () =>
      (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from registration.registration where status = 'confirmed'`,
        )
      ).rows[0]!.n;
    await new Promise((r) => setTimeout(r, 1000));
    const smtp = sink;
    await waitUntil(
      async () => (await smtp.count()) >= (await countRegistered()),
      120_000,
      async () => `SMTP server accepted ${await smtp.count()} of ${await countRegistered()} confirmations`,
      50,
    );
    await new Promise((r) => setTimeout(r, 500));
    const mails = (await sink.mails()).filter((m) => m.kind === 'registration_confirmed');
    const latencies = mails.map((m) => {
      const start = starts[m.to];
      if (start === undefined) throw new Error(`confirmation to ${m.to} matches no request`);
      return m.at - start;
    });
    const addresses = new Set(mails.map((m) => m.to));
    const registered = await countRegistered();
    if (registered < load.ok2xx)
      throw new Error(`${load.ok2xx} answered 2xx but ${registered} registrations stored`);
    if (mails.length !== registered || addresses.size !== registered) {
      throw new Error(
        `${registered} registrations stored; SMTP server got ${mails.length} confirmations for ${addresses.size} addresses`,
      );
    }
    latencies.sort((a, b) => a - b);
    const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    const confirmation = await pool.query<{
      subject: string;
      text_body: string;
      html_body: string;
      ics: string;
    }>(
      `select subject, text_body, html_body, ics from notification.email
       where kind = 'registration_confirmed' limit 1`,
    );
    await stopService(registration, 'e2e confirmation');
    await stopService(notification, 'e2e confirmation');
    registration = undefined;
    notification = undefined;

    // The raw steps, each alone at the same moment: one INSERT behind fastify at 200 req/s, one acked
    // JetStream publish, one SMTP send of the same confirmation mail.
    const insert = await rawBaseline({ overallRate: RATE, durationSeconds: Math.min(DURATION_SECONDS, 5) });
    const publish = await rawPublishP50(ns);
    const send = await rawSmtpP50(sink, confirmation.rows[0]!);
    const rawSum = round(insert.p50 + publish + send, 1);

    const p50 = pct(0.5);
    return {
      scenario: 'register → confirmation accepted by the SMTP server at 200 req/s',
      system: {
        label: `${mails.length} confirmations, each matched to its request (${round(load.rps, 0)} req/s)`,
        value: p50,
        unit: 'ms p50',
        p50,
        p95: pct(0.95),
        p99: pct(0.99),
      },
      raw: {
        label: `sum of raw p50s: insert ${insert.p50} + JetStream publish ${publish} + SMTP send ${send}`,
        value: rawSum,
        unit: 'ms',
      },
      ratio: round(rawSum / p50, 3),
      goal: 'p99 ≤ 100 ms',
      note: 'ratio = raw sum / system p50',
    };
  } finally {
    await stopService(registration, 'e2e confirmation');
    await stopService(notification, 'e2e confirmation');
    await sink?.stop();
    await pool.end();
    await removeNamespace(ns).catch(() => {});
    await database.drop();
  }
}

/** p50 of one acked JetStream publish of a registration-sized event, one after the other. */
async function rawPublishP50(ns: string): Promise<number> {
  const nc = await connectNats({ url: testServers.natsUrl, name: 'bench-e2e-raw' });
  try {
    const jsm = await jetstreamManager(nc);
    const eventNs = namespace(`${ns}raw`);
    const stream = streams.registration;
    await ensureStream(jsm, { name: eventNs.streamName(stream), subjects: eventNs.streamSubjects(stream) });
    const js = jetstream(nc);
    const payload = JSON.stringify({ padding: 'x'.repeat(900) });
    const times: number[] = [];
    for (let i = 0; i < RAW_SAMPLES; i += 1) {
      const t = performance.now();
      await js.publish(eventNs.subject('registration.attendee.registered'), payload);
      times.push(performance.now() - t);
    }
    await jsm.streams.delete(eventNs.streamName(stream));
    return median(times);
  } finally {
    await nc.close();
  }
}

/** p50 of one pooled nodemailer send of the confirmation mail (with its invitation) to the same server. */
async function rawSmtpP50(
  sink: SmtpSink,
  mail: { subject: string; text_body: string; html_body: string; ics: string },
): Promise<number> {
  const transporter = nodemailer.createTransport({
    pool: true,
    host: '127.0.0.1',
    port: sink.port,
    secure: false,
    maxConnections: 5,
  });
  const times: number[] = [];
  for (let i = 0; i < RAW_SAMPLES; i += 1) {
    const t = performance.now();
    await transporter.sendMail({
      from: 'City Deals CoP <cop@citydeals.example.org>',
      to: `raw-${i}@example.org`,
      subject: mail.subject,
      text: mail.text_body,
      html: mail.html_body,
      icalEvent: { method: 'REQUEST', filename: 'invite.ics', content: mail.ics },
    });
    times.push(performance.now() - t);
  }
  transporter.close();
  return median(times);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.floor(sorted.length / 2)]!, 1);
}
