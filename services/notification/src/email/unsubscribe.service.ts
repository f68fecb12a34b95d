import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { EmailContext } from './email.context.ts';
import { suppressAddress } from './email.repository.ts';
import { addressHash, verifyUnsubscribeToken } from './unsubscribe.rules.ts';

export type UnsubscribeResult = 'unsubscribed' | 'invalid-token';

/** Whose link it is, for the page behind it: the language to speak, and whether reminders are off now. */
export async function unsubscribeState(
  db: Kysely<Database>,
  ctx: EmailContext,
  token: string,
): Promise<{ language: 'nl' | 'en' | null; unsubscribed: boolean } | null> {
  const secret = await ctx.secret(db);
  const registrationId = verifyUnsubscribeToken(secret, token);
  if (!registrationId) return null;
  const recipient = await db
    .selectFrom('recipient')
    .select(['email', 'language'])
    .where('registration_id', '=', registrationId)
    .executeTakeFirst();
  if (!recipient?.email) return { language: null, unsubscribed: false };
  const suppressed = await db
    .selectFrom('suppression')
    .select('reason')
    .where('address_hash', '=', addressHash(secret, recipient.email))
    .executeTakeFirst();
  return {
    language: recipient.language === 'en' ? 'en' : 'nl',
    unsubscribed: suppressed?.reason === 'unsubscribed',
  };
}

/**
 * Undoes an unsubscribe: reminders that fall due from now on go out again (those withdrawn meanwhile stay
 * withdrawn). Only an unsubscribe is undone; an address suppressed because its server refused mail stays so.
 */
export async function resubscribe(
  db: Kysely<Database>,
  ctx: EmailContext,
  token: string,
): Promise<'resubscribed' | 'invalid-token'> {
  const secret = await ctx.secret(db);
  const registrationId = verifyUnsubscribeToken(secret, token);
  if (!registrationId) return 'invalid-token';
  const recipient = await db
    .selectFrom('recipient')
    .select('email')
    .where('registration_id', '=', registrationId)
    .executeTakeFirst();
  if (recipient?.email) {
    await db
      .deleteFrom('suppression')
      .where('address_hash', '=', addressHash(secret, recipient.email))
      .where('reason', '=', 'unsubscribed')
      .execute();
  }
  return 'resubscribed';
}

/**
 * One-click unsubscribe (RFC 8058): the address gets no more reminders, for any meeting. Repeating it is
 * harmless; a token of an erased registration is accepted and changes nothing (there is nobody left).
 */
export async function unsubscribe(
  db: Kysely<Database>,
  ctx: EmailContext,
  token: string,
): Promise<UnsubscribeResult> {
  const secret = await ctx.secret(db);
  const registrationId = verifyUnsubscribeToken(secret, token);
  if (!registrationId) return 'invalid-token';
  await db.transaction().execute(async (trx) => {
    const recipient = await trx
      .selectFrom('recipient')
      .select('email')
      .where('registration_id', '=', registrationId)
      .executeTakeFirst();
    if (!recipient?.email) return;
    await suppressAddress(trx, addressHash(secret, recipient.email), 'unsubscribed');
    await trx
      .updateTable('email')
      .set((eb) => ({ status: 'cancelled' as const, version: eb('version', '+', 1), updated_at: new Date() }))
      .where('kind', '=', 'reminder')
      .where('status', '=', 'queued')
      .where((eb) => eb(eb.fn('lower', ['recipient']), '=', recipient.email!.toLowerCase()))
      .execute();
  });
  return 'unsubscribed';
}
