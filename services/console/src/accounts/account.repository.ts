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

export async function listAccounts(db: Kysely<Database>) {
  return db
    .selectFrom('staff_account')
    .select(['id', 'email', 'name', 'role', 'created_at', 'disabled_at', 'locked_until'])
    .orderBy('name')
    .execute();
}

export async function findAccount(db: Kysely<Database>, id: string) {
  return db.selectFrom('staff_account').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countActiveBeheerders(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('staff_account')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('role', '=', 'beheerder')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function updateAccount(
  db: Kysely<Database>,
  id: string,
  change: { role?: StaffRole; disabled_at?: Date | null },
) {
  await db.updateTable('staff_account').set(change).where('id', '=', id).execute();
}

/** A disabled account's sessions end with it (the session lookup also skips disabled accounts). */
export async function deleteSessionsOf(db: Kysely<Database>, accountId: string) {
  await db.deleteFrom('staff_session').where('account_id', '=', accountId).execute();
}
