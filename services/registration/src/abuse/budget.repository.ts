import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';

/** Budgets count per hour: long enough to stop a flood, short enough that a person is never locked out long. */
export const BUDGET_WINDOW_MS = 60 * 60 * 1000;

/** Keys name an address only by a hash, so the table holds no address in clear. */
export const budgetKeys = {
  clientInMeeting: (meetingId: string, client: string) => `client:${meetingId}:${client}`,
  registrationsTo: (emailKey: string) => `registrations-to:${digest(emailKey)}`,
  linkMailsTo: (emailKey: string) => `links-to:${digest(emailKey)}`,
  linkRequestsFrom: (client: string) => `links-from:${client}`,
};

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * Spends one unit from every budget if each still has one left in its current window, else none. A window
 * older than BUDGET_WINDOW_MS starts again. One statement, so replicas share the counts; two requests at the
 * same instant may both take the last unit (a budget is a brake, not an exact count). A refused request
 * writes nothing.
 */
export async function spendBudgets(
  db: Kysely<Database>,
  budgets: readonly { key: string; limit: number }[],
  now: Date,
): Promise<boolean> {
  if (budgets.length === 0) return true;
  const expired = new Date(now.getTime() - BUDGET_WINDOW_MS);
  const result = await sql<{ ok: boolean }>`
    with wanted as (
      select * from unnest(${budgets.map((b) => b.key)}::text[], ${budgets.map((b) => b.limit)}::int[])
        as w(key, lim)
    ),
    allowed as (
      select coalesce(bool_and(
        coalesce(case when b.window_start <= ${expired}::timestamptz then 0 else b.used end, 0) < w.lim
      ), true) as ok
      from wanted w left join request_budget b on b.key = w.key
    ),
    spent as (
      insert into request_budget as b (key, window_start, used)
      select w.key, ${now}::timestamptz, 1 from wanted w where (select ok from allowed)
      on conflict (key) do update set
        window_start = case when b.window_start <= ${expired}::timestamptz then excluded.window_start
          else b.window_start end,
        used = case when b.window_start <= ${expired}::timestamptz then 1 else b.used + 1 end
      returning 1
    )
    select (select ok from allowed) as ok, (select count(*) from spent) as n`.execute(db);
  return result.rows[0]?.ok === true;
}

/** Drops windows that are over; a later request starts a fresh one anyway. */
export async function sweepBudgets(db: Kysely<Database>, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('request_budget')
    .where('window_start', '<=', new Date(now.getTime() - BUDGET_WINDOW_MS))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
