import type { StaffRole } from '@citydeals/service-kit';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export interface NewAccount {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  passwordHash: string;
  createdAt: Date;
}

export async function insertAccount(db: Kysely<Database>, account: NewAccount) {
  await db
    .insertInto('staff_account')
    .values({
      id: account.id,
      email: account.email,
      name: account.name,
      role: account.role,
      password_hash: account.passwordHash,
      created_at: account.createdAt,
      locked_until: null,
      disabled_at: null,
    })
    .execute();
}

export async function findAccountByEmail(db: Kysely<Database>, email: string) {
  return db.selectFrom('staff_account').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function countAccounts(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('staff_account')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function recordLoginOutcome(
  db: Kysely<Database>,
  id: string,
  failedLogins: number,
  lockedUntil: Date | null,
) {
  await db
    .updateTable('staff_account')
    .set({ failed_logins: failedLogins, locked_until: lockedUntil })
    .where('id', '=', id)
    .execute();
}
