import type { StaffRole } from '@citydeals/service-kit';

export interface AccountState {
  id: string;
  role: StaffRole;
  disabled: boolean;
}

export type AccountChange = { kind: 'role'; role: StaffRole } | { kind: 'disable' } | { kind: 'enable' };

export type ChangeDecision = { ok: true } | { ok: false; why: 'last-beheerder' | 'self' | 'no-change' };

/**
 * The console must keep someone who can manage it: the last active beheerder can be neither demoted nor
 * disabled. Nobody disables themselves (a slip would lock them out mid-session); changing one's own role is
 * allowed only while another beheerder remains, which the first rule already says.
 */
export function decideAccountChange(
  actorId: string,
  target: AccountState,
  change: AccountChange,
  activeBeheerders: number,
): ChangeDecision {
  const losesBeheer =
    target.role === 'beheerder' &&
    !target.disabled &&
    (change.kind === 'disable' || (change.kind === 'role' && change.role !== 'beheerder'));
  if (change.kind === 'disable' && target.id === actorId) return { ok: false, why: 'self' };
  if (losesBeheer && activeBeheerders <= 1) return { ok: false, why: 'last-beheerder' };
  if (change.kind === 'role' && change.role === target.role) return { ok: false, why: 'no-change' };
  if (change.kind === 'disable' && target.disabled) return { ok: false, why: 'no-change' };
  if (change.kind === 'enable' && !target.disabled) return { ok: false, why: 'no-change' };
  return { ok: true };
}
