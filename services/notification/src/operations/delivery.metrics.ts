// What Prometheus sees of this service's deliveries: the mail queue, due reminders and every webhook
// endpoint. Read from the tables when scraped, so every replica reports the same figures (alert rules take
// `max by`); each query walks an index on the queue's waiting rows or a recent time window, never a table.
import { type Metrics, registerCollected } from '@citydeals/service-kit';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';

/**
 * The window of the "recent" figures: long enough to smooth a scrape interval, short enough to alert on.
 * The alerts' ALERT_MAIL_WINDOW (alerts/alert.config.ts) counts the same way over the same default window.
 */
const RECENT = sql`interval '15 minutes'`;

export function registerDeliveryMetrics(registry: Metrics['registry'], db: Kysely<Database>): void {
  registerCollected(
    registry,
    { name: 'mail_queue_depth', help: 'Mails waiting to be sent (queued, due or not)', type: 'gauge' },
    async () => [{ value: (await mailQueue(db)).depth }],
  );
  registerCollected(
    registry,
    {
      name: 'mail_queue_oldest_due_seconds',
      help: 'How long the longest-waiting due mail has been due (0 when none is due)',
      type: 'gauge',
    },
    async () => [{ value: (await mailQueue(db)).oldestDueSeconds }],
  );
  registerCollected(
    registry,
    {
      name: 'mail_outcomes_recent',
      help: 'Mails created in the last 15 minutes, by their status now (sent, failed, queued, expired, cancelled)',
      type: 'gauge',
      labelNames: ['status'],
    },
    async () =>
      (await recentMailOutcomes(db)).map(({ status, count }) => ({ labels: { status }, value: count })),
  );
  registerCollected(
    registry,
    {
      name: 'mail_suppressions_recent',
      help: 'Addresses suppressed after a hard bounce in the last 15 minutes (unsubscribes not counted)',
      type: 'gauge',
    },
    async () => [{ value: await recentSuppressions(db) }],
  );
  registerCollected(
    registry,
    {
      name: 'reminders_due',
      help: 'Reminders whose time has come and that are not queued yet',
      type: 'gauge',
    },
    async () => [{ value: await dueReminders(db) }],
  );
  registerCollected(
    registry,
    {
      name: 'webhook_endpoint_enabled',
      help: '1 while a webhook endpoint receives deliveries, 0 once it is disabled',
      type: 'gauge',
      labelNames: ['endpoint'],
    },
    async () =>
      (await endpointHealth(db)).map((e) => ({ labels: { endpoint: e.id }, value: e.enabled ? 1 : 0 })),
  );
  registerCollected(
    registry,
    {
      name: 'webhook_messages_recent',
      help: 'Webhook messages created in the last 15 minutes per endpoint, by outcome (delivered, failed, pending)',
      type: 'gauge',
      labelNames: ['endpoint', 'outcome'],
    },
    async () =>
      (await endpointHealth(db)).flatMap((e) =>
        (['delivered', 'failed', 'pending'] as const).map((outcome) => ({
          labels: { endpoint: e.id, outcome },
          value: e[outcome],
        })),
      ),
  );
}

async function mailQueue(db: Kysely<Database>): Promise<{ depth: number; oldestDueSeconds: number }> {
  const { rows } = await sql<{ depth: number; oldest: number }>`
    select count(*)::int as depth,
           coalesce(extract(epoch from now() - min(next_attempt_at) filter (where next_attempt_at <= now())), 0)::float8 as oldest
    from email where status = 'queued'`.execute(db);
  return { depth: rows[0]?.depth ?? 0, oldestDueSeconds: rows[0]?.oldest ?? 0 };
}

async function recentMailOutcomes(db: Kysely<Database>): Promise<{ status: string; count: number }[]> {
  const { rows } = await sql<{ status: string; count: number }>`
    select status, count(*)::int as count from email where created_at > now() - ${RECENT} group by status`.execute(
    db,
  );
  return rows;
}

async function recentSuppressions(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ count: number }>`
    select count(*)::int as count from suppression
    where created_at > now() - ${RECENT} and reason = 'rejected'`.execute(db);
  return rows[0]?.count ?? 0;
}

async function dueReminders(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ count: number }>`
    select count(*)::int as count from reminder where status = 'pending' and due_at <= now()`.execute(db);
  return rows[0]?.count ?? 0;
}

interface EndpointHealth {
  id: string;
  enabled: boolean;
  delivered: number;
  failed: number;
  pending: number;
}

/** Per endpoint through its (endpoint, created_at) index: endpoints are few, messages many. */
async function endpointHealth(db: Kysely<Database>): Promise<EndpointHealth[]> {
  const { rows } = await sql<EndpointHealth>`
    select e.id, e.enabled, m.delivered, m.failed, m.pending
    from webhook_endpoint e
    cross join lateral (
      select count(*) filter (where status = 'delivered')::int as delivered,
             count(*) filter (where status = 'failed')::int as failed,
             count(*) filter (where status = 'pending')::int as pending
      from webhook_message where endpoint_id = e.id and created_at > now() - ${RECENT}
    ) m
    order by e.id`.execute(db);
  return rows;
}
