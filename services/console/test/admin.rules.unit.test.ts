import t from 'tap';
import { dayBeforeLocal, localToInstant } from '../src/deliveries/deliveries.rules.ts';
import { machineKeyView } from '../src/keys/machine-key.rules.ts';
import { decideAccountChange } from '../src/people/people.rules.ts';
import { decideIdentity, mayUseHttp } from '../src/sso/sso.rules.ts';

t.test('account changes keep a beheerder and nobody disables themselves', async (t) => {
  const bea = { id: 'bea', role: 'beheerder' as const, disabled: false };
  const lex = { id: 'lex', role: 'lezer' as const, disabled: false };
  t.same(decideAccountChange('bea', bea, { kind: 'role', role: 'lezer' }, 1), {
    ok: false,
    why: 'last-beheerder',
  });
  t.same(
    decideAccountChange('bea', bea, { kind: 'role', role: 'lezer' }, 2),
    { ok: true },
    'with another left',
  );
  t.same(decideAccountChange('ann', bea, { kind: 'disable' }, 1), { ok: false, why: 'last-beheerder' });
  t.same(decideAccountChange('ann', bea, { kind: 'disable' }, 2), { ok: true });
  t.same(decideAccountChange('bea', bea, { kind: 'disable' }, 3), { ok: false, why: 'self' });
  t.same(decideAccountChange('bea', lex, { kind: 'role', role: 'lezer' }, 1), {
    ok: false,
    why: 'no-change',
  });
  t.same(decideAccountChange('bea', lex, { kind: 'enable' }, 1), { ok: false, why: 'no-change' });
  t.same(decideAccountChange('bea', { ...lex, disabled: true }, { kind: 'enable' }, 1), { ok: true });
  t.same(
    decideAccountChange('bea', { ...bea, id: 'old', disabled: true }, { kind: 'role', role: 'lezer' }, 1),
    { ok: true },
    'a disabled beheerder is not the one that keeps the console managed',
  );
});

t.test('an identity maps by a verified address', async (t) => {
  t.same(decideIdentity({ email: 'Bea@Example.org', email_verified: true }, true), {
    ok: true,
    email: 'bea@example.org',
  });
  t.same(decideIdentity({ email: 'bea@example.org', email_verified: false }, true), {
    ok: false,
    why: 'email-not-verified',
  });
  t.same(decideIdentity({ email: 'bea@example.org' }, true), { ok: false, why: 'email-not-verified' });
  t.same(decideIdentity({ email: 'bea@example.org' }, false), { ok: true, email: 'bea@example.org' });
  t.same(decideIdentity({}, false), { ok: false, why: 'no-email' });
  t.same(decideIdentity({ email: 'bea' }, false), { ok: false, why: 'no-email' });
  t.ok(mayUseHttp(new URL('http://127.0.0.1:9000')));
  t.ok(mayUseHttp(new URL('https://login.example.org')));
  t.notOk(mayUseHttp(new URL('http://login.example.org')), 'plain http only on the loopback');
});

t.test('a machine key as the services see it', async (t) => {
  const row = {
    id: 'k1',
    system: 'website',
    label: 'Site',
    scopes: ['read'],
    service_keys: { registration: 1, dealTracking: 2, notification: 3 },
    created_at: new Date('2026-12-01T10:00:00Z'),
    created_by: 'Bea <bea@example.org>',
    revoked_at: null,
    revoked_by: null,
  };
  const live = (id: number, lastUsedAt: string | null) => ({ id, lastUsedAt, revokedAt: null });
  const view = machineKeyView(row, {
    registration: [live(1, null)],
    dealTracking: [live(2, '2026-12-05T09:00:00.000Z'), live(7, '2026-12-06T09:00:00.000Z')],
    notification: null,
  });
  t.equal(view.lastUsedAt, '2026-12-05T09:00:00.000Z', 'the latest use of this key, not of another');
  t.equal(view.services.notification, 'unknown', 'a service that did not answer');
  t.notOk(view.revoked);
  const revokedEverywhere = machineKeyView(row, {
    registration: [{ id: 1, lastUsedAt: null, revokedAt: 'x' }],
    dealTracking: [{ id: 2, lastUsedAt: null, revokedAt: 'x' }],
    notification: [{ id: 3, lastUsedAt: null, revokedAt: 'x' }],
  });
  t.ok(
    revokedEverywhere.revoked,
    'revoked at every service counts as revoked, even if not through the console',
  );
  t.equal(
    machineKeyView(row, { registration: [], dealTracking: [], notification: [] }).services.registration,
    'missing',
  );
});

t.test('the replay form’s time is office time', async (t) => {
  t.equal(localToInstant('2026-12-06T09:30').toISOString(), '2026-12-06T08:30:00.000Z', 'winter: UTC+1');
  t.equal(localToInstant('2026-07-01T09:30').toISOString(), '2026-07-01T07:30:00.000Z', 'summer: UTC+2');
  t.equal(dayBeforeLocal(new Date('2026-12-06T08:30:00Z')), '2026-12-05T09:30');
});
