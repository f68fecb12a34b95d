import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { EmailContext } from './email.context.ts';
import { suppressAddress } from './email.repository.ts';
import { addressHash, verifyUnsubscribeToken } from './unsubscribe.rules.ts';

export type UnsubscribeResult = 'unsubscribed' | 'invalid-token';

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
