// /metrics tells an operator what the alert rules and the dashboard in infra/ read: the figures come from
// the tables, and every metric those files name is one this service exports.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import t from 'tap';
import { parse } from 'yaml';
import { startNotification } from '../harness.ts';

const ctx = await startNotification({
  // Nothing may take the rows this test puts in place before it reads the figures.
  REMINDER_POLL_MS: '3600000',
  MAIL_POLL_MS: '3600000',
  WEBHOOK_POLL_INTERVAL: '1h',
});
t.teardown(() => ctx.close());
const { http, runtime } = ctx.service;
const db = runtime.db;

async function scrape(): Promise<string> {
  const response = await http.inject('/metrics');
  return response.body;
}

function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.split(' ').pop());
  }
  return undefined;
}

t.test('mail queue, outcomes, suppressions and due reminders come from the tables', async (t) => {
  const before = await scrape();
  t.equal(value(before, 'mail_queue_depth'), 0);
  t.equal(value(before, 'mail_queue_oldest_due_seconds'), 0);

  const mail = (status: string, extra: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    kind: 'registration_confirmed',
    language: 'nl',
    subject: 'test',
    message_id: `<${randomUUID()}@citydeals.test>`,
    status,
    created_at: new Date(),
    ...extra,
  });
  await db
    .insertInto('email')
    .values([
      // Due ten minutes ago and held by a sender's lease, so it stays waiting while the test reads.
      mail('queued', {
        next_attempt_at: new Date(Date.now() - 600_000),
        leased_until: new Date(Date.now() + 600_000),
      }),
      mail('queued', { next_attempt_at: new Date(Date.now() + 3_600_000) }),
      mail('sent', { sent_at: new Date() }),
      mail('sent', { sent_at: new Date() }),
      mail('failed', { failed_at: new Date() }),
      mail('sent', { created_at: new Date(Date.now() - 3_600_000) }),
    ] as never)
    .execute();
  await db
    .insertInto('suppression')
    .values([
      { address_hash: 'h1', reason: 'rejected' },
      // An unsubscribe is the person's choice, not trouble with the mail.
      { address_hash: 'h2', reason: 'unsubscribed' },
    ])
    .execute();
  await sql`insert into reminder (registration_id, meeting_id, reminder_offset, due_at, status)
            values (${randomUUID()}, ${randomUUID()}, 'P1D', now() - interval '1 minute', 'pending'),
                   (${randomUUID()}, ${randomUUID()}, 'P1D', now() + interval '1 day', 'pending')`.execute(
    db,
  );

  const after = await scrape();
  t.equal(value(after, 'mail_queue_depth'), 2, 'both queued mails wait');
  const oldest = value(after, 'mail_queue_oldest_due_seconds') ?? 0;
  t.ok(oldest >= 600 && oldest < 700, `the due one has waited ten minutes (${oldest} s)`);
  t.equal(
    value(after, 'mail_outcomes_recent', { status: 'sent' }),
    2,
    'sent in the window; the older one is not',
  );
  t.equal(value(after, 'mail_outcomes_recent', { status: 'failed' }), 1);
  t.equal(value(after, 'mail_suppressions_recent'), 1, 'hard bounces only');
  t.equal(value(after, 'reminders_due'), 1, 'only the reminder whose time has come');
});

t.test('each webhook endpoint: enabled or not, and its recent outcomes', async (t) => {
  const enabled = randomUUID();
  const disabled = randomUUID();
  await db
    .insertInto('webhook_endpoint')
    .values([
      { id: enabled, url: 'https://a.example.org/hook', event_types: ['*'], secret: 'x' },
      {
        id: disabled,
        url: 'https://b.example.org/hook',
        event_types: ['*'],
        secret: 'x',
        enabled: false,
        disabled_reason: 'manual',
        disabled_at: new Date(),
      },
    ] as never)
    .execute();
  const message = (endpoint: string, status: string) => ({
    id: randomUUID(),
    endpoint_id: endpoint,
    webhook_id: `msg_${randomUUID()}`,
    event_id: randomUUID(),
    event_type: 'test',
    payload: '{}',
    status,
    next_attempt_at: new Date(Date.now() + 86_400_000),
  });
  await db
    .insertInto('webhook_message')
    .values([
      message(enabled, 'delivered'),
      message(enabled, 'delivered'),
      message(disabled, 'failed'),
    ] as never)
    .execute();

  const text = await scrape();
  t.equal(value(text, 'webhook_endpoint_enabled', { endpoint: enabled }), 1);
  t.equal(value(text, 'webhook_endpoint_enabled', { endpoint: disabled }), 0);
  t.equal(value(text, 'webhook_messages_recent', { endpoint: enabled, outcome: 'delivered' }), 2);
  t.equal(value(text, 'webhook_messages_recent', { endpoint: disabled, outcome: 'failed' }), 1);
  t.equal(value(text, 'dead_letters_open'), 0);
  t.ok(
    (value(text, 'consumer_backlog_events', { consumer: 'notification-deal-tracking-events' }) ?? -1) >= 0,
  );
});

t.test('every metric the alert rules and the dashboard read is exported', async (t) => {
  const text = await scrape();
  const exported = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    const [, name, type] = match;
    exported.add(name!);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_count', '_sum']) exported.add(`${name}${suffix}`);
  }
  const infra = fileURLToPath(new URL('../../../../infra/', import.meta.url));
  const rules = parse(readFileSync(`${infra}prometheus/alerts.yml`, 'utf8'));
  const dashboard = JSON.parse(readFileSync(`${infra}grafana/citydeals-operations.dashboard.json`, 'utf8'));
  const queries: string[] = [
    ...rules.groups.flatMap((g: { rules: { expr: string }[] }) => g.rules.map((r) => r.expr)),
    ...dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((x) => x.expr)),
  ];
  const named = new Set(queries.flatMap(metricNames));
  t.ok(named.size >= 15, `the files name ${named.size} metrics`);
  // `up` is Prometheus's own series about each scrape.
  const missing = [...named].filter((name) => name !== 'up' && !exported.has(name));
  t.same(missing, [], 'none of them is missing from /metrics');
});

/** Metric names in a PromQL expression: identifiers not called as functions, outside label matchers and groupings. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset']);
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !keywords.has(name) && !/^\d/.test(name));
}
