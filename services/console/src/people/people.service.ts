import type { StaffRole } from '@citydeals/service-kit';
import {
  countActiveBeheerders,
  deleteSessionsOf,
  findAccount,
  updateAccount,
} from '../accounts/account.repository.ts';
import { createAccount, generatePassword } from '../accounts/account.service.ts';
import type { ServiceContext } from '../context.ts';
import { type AccountChange, type ChangeDecision, decideAccountChange } from './people.rules.ts';

/**
 * A new account with a generated password, returned once to be handed over; with single sign-on the person
 * can use that instead and never needs the password.
 */
export async function addPerson(
  ctx: ServiceContext,
  input: { email: string; name: string; role: StaffRole },
) {
  const password = generatePassword();
  const account = await createAccount(ctx, { ...input, password });
  return { account, password };
}

export async function changePerson(
  ctx: ServiceContext,
  actorId: string,
  targetId: string,
  change: AccountChange,
): Promise<ChangeDecision | { ok: false; why: 'not-found' }> {
  return ctx.db.transaction().execute(async (trx) => {
    // Serialises changes to accounts, so two beheerders demoting each other cannot leave none.
    await trx.selectFrom('staff_account').select('id').where('role', '=', 'beheerder').forUpdate().execute();
    const target = await findAccount(trx, targetId);
    if (!target) return { ok: false, why: 'not-found' as const };
    const decision = decideAccountChange(
      actorId,
      { id: target.id, role: target.role, disabled: target.disabled_at !== null },
      change,
      await countActiveBeheerders(trx),
    );
    if (!decision.ok) return decision;
    if (change.kind === 'role') await updateAccount(trx, targetId, { role: change.role });
    if (change.kind === 'disable') {
      await updateAccount(trx, targetId, { disabled_at: ctx.clock.now() });
      await deleteSessionsOf(trx, targetId);
    }
    if (change.kind === 'enable') await updateAccount(trx, targetId, { disabled_at: null });
    return decision;
  });
}
