import t from 'tap';
import { decideLogin, may, sessionExpiry } from '../src/accounts/account.rules.ts';

const policy = { maxFailures: 3, lockoutMs: 15 * 60_000 };
const now = new Date('2027-03-11T10:00:00Z');
const fresh = { failedLogins: 0, lockedUntil: null, disabled: false };

t.test('what each role may do in the console', async (t) => {
  t.ok(may('beheerder', 'manage-accounts'));
  t.notOk(may('redacteur', 'manage-accounts'));
  t.ok(may('redacteur', 'edit-deals'));
  t.notOk(may('lezer', 'edit-deals'));
  t.notOk(may('lezer', 'door'), 'a lezer reads, it does not check people in');
  t.ok(may('lezer', 'view'));
  t.ok(may('deur', 'door'));
  t.notOk(may('deur', 'view'), 'the door sees the door only');
  for (const role of ['beheerder', 'redacteur', 'deur', 'lezer'] as const) t.ok(may(role, 'session'));
});

t.test('login: the third wrong password locks; the lock holds against the right one', async (t) => {
  t.same(decideLogin(fresh, true, now, policy), { kind: 'accepted' });
  const one = decideLogin(fresh, false, now, policy);
  t.same(one, { kind: 'refused', failedLogins: 1, lockedUntil: null });
  const three = decideLogin({ ...fresh, failedLogins: 2 }, false, now, policy);
  t.same(three, {
    kind: 'refused',
    failedLogins: 0,
    lockedUntil: new Date(now.getTime() + policy.lockoutMs),
  });
  const locked = { ...fresh, lockedUntil: new Date(now.getTime() + 60_000) };
  t.same(decideLogin(locked, true, now, policy), { kind: 'locked', until: locked.lockedUntil });
  const later = new Date(now.getTime() + 120_000);
  t.same(
    decideLogin(locked, true, later, policy),
    { kind: 'accepted' },
    'after the lock, the right one works',
  );
  t.same(decideLogin(locked, false, later, policy), { kind: 'refused', failedLogins: 1, lockedUntil: null });
  t.equal(decideLogin({ ...fresh, disabled: true }, true, now, policy).kind, 'refused', 'disabled: refused');
});

t.test('a session ends when idle too long or at its maximum age', async (t) => {
  const created = new Date('2027-03-11T08:00:00Z');
  t.same(sessionExpiry(created, now, 60 * 60_000, 12 * 3600_000), new Date('2027-03-11T11:00:00Z'));
  t.same(
    sessionExpiry(created, new Date('2027-03-11T19:30:00Z'), 60 * 60_000, 12 * 3600_000),
    new Date('2027-03-11T20:00:00Z'),
  );
});
