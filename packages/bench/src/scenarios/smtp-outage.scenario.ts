import { createTestDatabase, uniqueName } from '@citydeals/testkit';
import pg from 'pg';
import { type BenchRow, round, throughputRatio } from '../report.ts';
import { type RunningService, removeNamespace, startService, stopService, waitUntil } from '../services.ts';
import { type SmtpSink, startSmtpSink } from '../sinks.ts';
import { assertExactlyOnce, REMINDERS, seedDueReminders } from './reminders.scenario.ts';

const SCHEMA = 'notification';
/** How long the SMTP server stays away after every mail is queued and waiting for it. */
const OUTAGE_AFTER_QUEUED_MS = 5_000;

/**
 * The reminders row's drain (10 000 due reminders → SMTP), then the same again while the SMTP server is
 * down: once every mail is queued and waiting, the server comes back on its port, and the drain from that
 * moment is compared with the first. Both in one service process and database.
 */
export async function smtpOutageScenario(): Promise<BenchRow> {
  const database = await createTestDatabase('cd_bench_outage');
  const ns = uniqueName('bout');
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  let sink: SmtpSink | undefined;
  let service: RunningService | undefined;
  try {
    sink = await startSmtpSink();
    const port = sink.port;
    service = await startService('notification', {
      DATABASE_URL: database.url,
      EVENT_NAMESPACE: ns,
      SMTP_URL: sink.smtpUrl,
    });
    const drain = async (from: number, smtp: SmtpSink, label: string) => {
      await waitUntil(
        async () => (await smtp.count()) >= REMINDERS,
        420_000,
        async () => `${label}: SMTP server accepted ${await smtp.count()} of ${REMINDERS} reminders`,
        50,
      );
      await new Promise((r) => setTimeout(r, 1000));
      const mails = await smtp.mails();
      assertExactlyOnce(label, mails, 'reminder');
      return REMINDERS / ((Math.max(...mails.map((m) => m.at)) - from) / 1000);
    };
    const normal = await drain(await seedDueReminders(pool), sink, 'before the outage');

    await sink.stop();
    sink = undefined;
    await seedDueReminders(pool);
    const queued = async () =>
      (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from ${SCHEMA}.email
           where kind = 'reminder' and status = 'queued' and leased_until is null`,
        )
      ).rows[0]!.n;
    await waitUntil(
      async () => (await queued()) >= REMINDERS,
      120_000,
      async () => `${await queued()} of ${REMINDERS} reminder mails queued while SMTP is down`,
      100,
    );
    await new Promise((r) => setTimeout(r, OUTAGE_AFTER_QUEUED_MS));
    const { rows: during } = await pool.query<{ max: number }>(
      `select coalesce(max(attempts), 0)::int as max from ${SCHEMA}.email where status = 'queued'`,
    );
    const back = Date.now();
    sink = await startSmtpSink(port);
    const afterOutage = await drain(back, sink, 'after the outage');
    const { rows: attempts } = await pool.query<{ max: number; failed: number }>(
      `select max(attempts)::int as max, count(*) filter (where status <> 'sent')::int as failed
       from ${SCHEMA}.email where kind = 'reminder'`,
    );
    if (attempts[0]!.failed > 0) throw new Error(`${attempts[0]!.failed} reminder mails not sent`);

    const system = {
      label: `${REMINDERS} reminders queued while SMTP was down, from its return to the last 250 (attempts used: ${attempts[0]!.max} at most, ${during[0]!.max} during the outage)`,
      value: round(afterOutage, 0),
      unit: 'mails/s',
    };
    const raw = {
      label: `the same ${REMINDERS} reminders with SMTP up (the reminders row, this run)`,
      value: round(normal, 0),
      unit: 'mails/s',
    };
    return {
      scenario: 'drain after an SMTP outage',
      system,
      raw,
      ratio: throughputRatio(system, raw),
      goal: '≥ 0.8',
      note: `SMTP down until every mail was queued and ${OUTAGE_AFTER_QUEUED_MS / 1000} s more, then back on its port; service defaults`,
    };
  } finally {
    await stopService(service, 'smtp outage');
    await sink?.stop();
    await pool.end();
    await removeNamespace(ns).catch(() => {});
    await database.drop();
  }
}
