import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export interface AuditEntry {
  at: Date;
  accountId: string | null;
  who: string;
  action: string;
  target?: string | null;
  outcome: 'ok' | 'refused' | 'failed';
  detail?: Record<string, unknown> | null;
  ip: string | null;
}

export async function recordAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_entry')
    .values({
      at: entry.at,
      account_id: entry.accountId,
      who: entry.who,
      action: entry.action,
      target: entry.target ?? null,
      outcome: entry.outcome,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
      ip: entry.ip,
    })
    .execute();
}

/** Login attempts from one address since `since`: the per-address login limit, shared by every replica. */
export async function countLoginAttempts(db: Kysely<Database>, ip: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('audit_entry')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('action', '=', 'login')
    .where('ip', '=', ip)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listAudit(db: Kysely<Database>, limit: number) {
  return db.selectFrom('audit_entry').selectAll().orderBy('id', 'desc').limit(limit).execute();
}
