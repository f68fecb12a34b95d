import { randomUUID } from 'node:crypto';
import { INDEX_PLANNED_SETTINGS } from '@citydeals/db';
import { RetentionJob } from '@citydeals/messaging';
import { ConfigError } from '@citydeals/service-kit';
import { uniqueName } from '@citydeals/testkit';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pino from 'pino';
import t from 'tap';
import { loadServiceConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { insertEmails, listEmails } from '../src/email/email.repository.ts';
import { notificationPruneTasks } from '../src/retention/retention.repository.ts';
import { notificationCutoffs, notificationRetentionProblems } from '../src/retention/retention.rules.ts';
import { notificationRetention } from '../src/retention/retention.worker.ts';
import { startService } from '../src/service.ts';
import { queuedMail } from './email/email.fixture.ts';
import { notificationSchema } from './harness.ts';

const DAY = 24 * 3600_000;

t.test('retention rules: defaults, cut-offs, and webhooks outliving the streams', async (t) => {
  const config = loadServiceConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x' });
  const policy = notificationRetention(config);
  t.same(policy, { mailBodyMs: 30 * DAY, webhookMs: 90 * DAY, streamMaxAgeMs: 7 * DAY });
  t.same(notificationRetentionProblems(policy), []);
  const now = new Date('2027-04-01T00:00:00Z');
  t.same(notificationCutoffs(policy, now), {
    mailBody: new Date('2027-03-02T00:00:00Z'),
    webhook: new Date('2027-01-01T00:00:00Z'),
  });
  t.match(notificationRetentionProblems({ ...policy, webhookMs: 6 * DAY }), [/^RETENTION_WEBHOOK_MS/]);
});

t.test('a service does not start with retention that would break a guarantee', async (t) => {
  const config = loadServiceConfig({
    DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
    RETENTION_INBOX_MS: String(DAY),
    RETENTION_OUTBOX_PUBLISHED_MS: String(60_000),
  });
  const error = await startService(config).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.type(error, ConfigError);
  t.match(String(error), /RETENTION_INBOX_MS: .*NATS_STREAM_MAX_AGE_MS/);
  t.match(String(error), /RETENTION_OUTBOX_PUBLISHED_MS: /);
});

const schemaUnderTest = await notificationSchema();
t.teardown(() => schemaUnderTest.close());
const { db, pool } = schemaUnderTest;

const now = new Date();
const ago = (ms: number) => new Date(now.getTime() - ms);
const cutoffs = { mailBody: ago(30 * DAY), webhook: ago(90 * DAY) };

const mail = (i: number, createdAt: Date) =>
  queuedMail(i, {
    kind: 'registration_confirmed',
    registration_id: randomUUID(),
    reminder_offset: null,
    recipient: `retention-${i}@example.org`,
    subject: `Bevestiging ${i}`,
    text_body: 'Tot dan.\n',
    html_body: '<p>Tot dan.</p>',
    ics: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n',
    ics_method: 'REQUEST',
    created_at: createdAt,
  });

// 1 500 old mails sent, 20 old still queued, 50 recent sent.
const oldMails = Array.from({ length: 1_520 }, (_, i) => mail(i, ago(40 * DAY)));
const recentMails = Array.from({ length: 50 }, (_, i) => mail(2_000 + i, ago(10 * DAY)));
await db.transaction().execute((trx) => insertEmails(trx, [...oldMails, ...recentMails]));
await sql`update email set status = 'sent', sent_at = created_at
  where id <> all(${oldMails.slice(0, 20).map((m) => m.id)}::uuid[])`.execute(db);

const endpoints = [randomUUID(), randomUUID()];
for (const id of endpoints) {
  await sql`insert into webhook_endpoint (id, url, event_types, secret)
    values (${id}, 'https://hooks.example.org/x', '{*}', 'secret')`.execute(db);
}
/** Messages per endpoint: 600 old delivered, 10 old still pending, 40 recent delivered; 2 attempts each. */
await sql`insert into webhook_message (id, endpoint_id, webhook_id, event_id, event_type, payload, status,
    next_attempt_at, created_at)
  select gen_random_uuid(), e.id, 'msg_' || e.n || '_' || g, gen_random_uuid(), 'deal.updated', '{}',
    case when g <= 600 then 'delivered' when g <= 610 then 'pending' else 'delivered' end,
    now(), case when g <= 610 then ${ago(100 * DAY)}::timestamptz else ${ago(30 * DAY)}::timestamptz end
  from unnest(${endpoints}::uuid[]) with ordinality as e(id, n), generate_series(1, 650) g`.execute(db);
await sql`insert into webhook_attempt (message_id, attempt, started_at, duration_ms, webhook_timestamp, outcome)
  select m.id, a, m.created_at, 10, 0, 'delivered' from webhook_message m, generate_series(1, 2) a`.execute(
  db,
);
// 3 000 alerts raised long ago (a bad quarter of many causes), 5 recently.
await sql`insert into alert (id, cause, kind, raised_at, occurrences, payload, webhook_messages)
  select gen_random_uuid(), 'mails_failed', 'notification.alert.mails_failed',
    case when g <= 3000 then ${ago(100 * DAY)}::timestamptz else ${ago(10 * DAY)}::timestamptz end, 1, '{}', 0
  from generate_series(1, 3005) g`.execute(db);
await sql`analyze email, webhook_message, webhook_attempt, alert`.execute(db);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

async function counts() {
  const { rows } = await sql<Record<string, number>>`select
    (select count(*)::int from email where text_body is not null and created_at < ${cutoffs.mailBody}) as old_bodies,
    (select count(*)::int from email where text_body is not null and status = 'queued') as queued_bodies,
    (select count(*)::int from email where text_body is not null and created_at > ${cutoffs.mailBody}) as recent_bodies,
    (select count(*)::int from email) as mails,
    (select count(*)::int from webhook_message where created_at < ${cutoffs.webhook}) as old_messages,
    (select count(*)::int from webhook_message where created_at > ${cutoffs.webhook}) as recent_messages,
    (select count(*)::int from webhook_attempt) as attempts,
    (select count(*)::int from alert) as alerts`.execute(db);
  return rows[0];
}

t.test(
  'old mails keep their log line but lose their bodies; old deliveries go with their attempts, old alerts too',
  async (t) => {
    t.same(await counts(), {
      old_bodies: 1_520,
      queued_bodies: 20,
      recent_bodies: 50,
      mails: 1_570,
      old_messages: 1_220,
      recent_messages: 80,
      attempts: 2_600,
      alerts: 3_005,
    });
    const client = await pool.connect();
    try {
      for (const [key, value] of Object.entries(INDEX_PLANNED_SETTINGS))
        await client.query(`set ${key} = ${value}`);
      for (const task of notificationPruneTasks(cutoffs)) {
        const { rows } = await client.query(`explain (format json) ${task.sql}`, [task.cutoff, 200]);
        const scans = nodes(rows[0]['QUERY PLAN'][0].Plan).filter((n) =>
          ['email', 'webhook_message', 'alert'].includes(n['Relation Name'] ?? ''),
        );
        t.notOk(
          scans.some((n) => n['Node Type'] === 'Seq Scan'),
          `${task.name}: no sequential scan`,
        );
        t.ok(
          scans.some((n) => /Index/.test(n['Node Type'])),
          `${task.name}: found by index`,
        );
        if (task.name === 'mail_body') {
          t.ok(
            scans.some((n) => n['Index Name'] === 'email_body_kept_idx'),
            'mails by the index of those that still have a body, not past all those already reduced',
          );
        }
      }
    } finally {
      client.release(true);
    }

    const job = new RetentionJob({
      pool,
      lockKey: uniqueName('retention'),
      tasks: () => notificationPruneTasks(cutoffs),
      clock: { now: () => now },
      logger: pino({ level: 'silent' }),
      intervalMs: 60_000,
      batchSize: 200,
    });
    const round = await job.runOnce();
    t.same(round, { ran: true, changed: { mail_body: 1_500, webhook_message: 1_200, alert: 3_000 } });
    t.same(await counts(), {
      old_bodies: 20,
      queued_bodies: 20,
      recent_bodies: 50,
      mails: 1_570,
      old_messages: 20,
      recent_messages: 80,
      attempts: 200,
      alerts: 5,
    });
    const stripped = await db
      .selectFrom('email')
      .select(['recipient', 'subject', 'status', 'sent_at', 'text_body', 'html_body', 'ics'])
      .where('id', '=', oldMails[100]!.id)
      .executeTakeFirstOrThrow();
    t.match(stripped, {
      recipient: 'retention-100@example.org',
      subject: 'Bevestiging 100',
      status: 'sent',
      sent_at: Date,
      text_body: null,
      html_body: null,
      ics: null,
    });
  },
);

t.test(
  'the mail log reads its page from the newest end of an index, however many mails there are',
  async (t) => {
    const statements: { sql: string; parameters: readonly unknown[] }[] = [];
    // On the test's pool, which outlives this instance: it is never destroyed, or it would end that pool.
    const recording = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      log(event) {
        if (event.level === 'query') statements.push(event.query);
      },
    });
    const page = await listEmails(recording, { limit: 50 });
    t.equal(page.length, 50);
    const before = page.at(-1)!;
    await listEmails(recording, { limit: 50, before: { createdAt: before.created_at, id: before.id } });
    t.equal(statements.length, 2);
    for (const statement of statements) {
      const { rows } = await pool.query(`explain (format json) ${statement.sql}`, [...statement.parameters]);
      const plan = rows[0]['QUERY PLAN'][0].Plan as PlanNode & { 'Plan Rows': number };
      const scans = nodes(plan).filter((n) => n['Relation Name'] === 'email');
      t.notOk(
        scans.some((n) => n['Node Type'] === 'Seq Scan'),
        'no sequential scan of the mails',
      );
      t.ok(plan['Plan Rows'] <= 50, `one page of rows (${plan['Plan Rows']})`);
    }
  },
);
