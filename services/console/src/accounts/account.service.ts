import { randomBytes } from 'node:crypto';
import { type StaffRole, staffRoles } from '@citydeals/service-kit';
import { hash, verify } from '@node-rs/argon2';
import { z } from 'zod';
import type { ServiceContext } from '../context.ts';
import {
  countAccounts,
  findAccountByEmail,
  insertAccount,
  recordLoginOutcome,
} from './account.repository.ts';
import { decideLogin, MIN_PASSWORD_LENGTH } from './account.rules.ts';

export const newAccountSchema = z.object({
  email: z
    .email()
    .max(254)
    .transform((e) => e.toLowerCase()),
  name: z.string().trim().min(1).max(120),
  role: z.enum(staffRoles),
  password: z.string().min(MIN_PASSWORD_LENGTH, `at least ${MIN_PASSWORD_LENGTH} characters`).max(1024),
});
export type NewAccountInput = z.input<typeof newAccountSchema>;

/**
 * argon2id is memory-hard by design: each hash or verification holds its memory cost (19 MiB by default)
 * while it runs, on one of libuv's threads. One at a time, a burst of logins queues for a few tens of
 * milliseconds each instead of holding that memory once per thread, and the process's peak stays low.
 */
let passwordWork: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = passwordWork.then(work, work);
  passwordWork = run.catch(() => {});
  return run;
}

/** argon2id (the library's default) with its default cost; the PHC string keeps the parameters per hash. */
export function hashPassword(password: string): Promise<string> {
  return oneAtATime(() => hash(password));
}

const verifyPassword = (phc: string, password: string) =>
  oneAtATime(() => verify(phc, password)).catch(() => false);

export async function createAccount(ctx: ServiceContext, input: NewAccountInput) {
  const account = newAccountSchema.parse(input);
  const id = ctx.newId();
  await insertAccount(ctx.db, {
    id,
    email: account.email,
    name: account.name,
    role: account.role,
    passwordHash: await hashPassword(account.password),
    createdAt: ctx.clock.now(),
  });
  return { id, email: account.email, name: account.name, role: account.role };
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The first beheerder, made once on an empty console (npm start, the create-admin command); the password is
 * generated when none is given and returned once, to be shown once.
 */
export async function ensureFirstAdmin(
  ctx: ServiceContext,
  input: { email: string; name: string; password?: string | undefined },
): Promise<{ created: false } | { created: true; email: string; password: string }> {
  if ((await countAccounts(ctx.db)) > 0) return { created: false };
  const password = input.password ?? generatePassword();
  const account = await createAccount(ctx, { ...input, role: 'beheerder', password });
  return { created: true, email: account.email, password };
}

export interface StaffAccount {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
}

export type LoginResult =
  | { kind: 'accepted'; account: StaffAccount }
  | { kind: 'refused' }
  | { kind: 'locked'; until: Date };

// Verifying against this when the address is unknown costs the same as for a real account, so the answer's
// timing does not tell which addresses have accounts. (A hash of nothing anyone can log in with.)
const DECOY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$6eC7/dnQvLL9d15SSIufNw$/7idZeFUikIL10z0eLdqPkzBfF5SjjiY4dgy0ZR3oz8';

export async function checkLogin(ctx: ServiceContext, email: string, password: string): Promise<LoginResult> {
  const account = await findAccountByEmail(ctx.db, email.trim().toLowerCase());
  if (!account) {
    await verifyPassword(DECOY_HASH, password);
    return { kind: 'refused' };
  }
  const now = ctx.clock.now();
  const locked = account.locked_until !== null && account.locked_until > now;
  // A locked account is not even verified: the lock holds whatever is tried meanwhile.
  const matches = !locked && (await verifyPassword(account.password_hash, password));
  const decision = decideLogin(
    {
      failedLogins: account.failed_logins,
      lockedUntil: account.locked_until,
      disabled: account.disabled_at !== null,
    },
    matches,
    now,
    { maxFailures: ctx.config.LOGIN_MAX_FAILURES, lockoutMs: ctx.config.LOGIN_LOCKOUT_MINUTES * 60_000 },
  );
  if (decision.kind === 'locked') return decision;
  if (decision.kind === 'refused') {
    await recordLoginOutcome(ctx.db, account.id, decision.failedLogins, decision.lockedUntil);
    return decision.lockedUntil ? { kind: 'locked', until: decision.lockedUntil } : { kind: 'refused' };
  }
  await recordLoginOutcome(ctx.db, account.id, 0, null);
  return {
    kind: 'accepted',
    account: { id: account.id, email: account.email, name: account.name, role: account.role },
  };
}
