import t from 'tap';
import {
  CONFIRMATION_SWEEP_GRACE_MS,
  CONFIRMATION_TTL_MS,
  confirmationExpiry,
  confirmationLinkState,
  sweepCutoff,
} from '../../src/address-confirmation/address-confirmation.rules.ts';

const now = new Date('2027-01-10T10:00:00Z');

t.test('a link is open until it expires, and used once confirmed', async (t) => {
  const expiresAt = confirmationExpiry(now);
  t.equal(expiresAt.getTime() - now.getTime(), CONFIRMATION_TTL_MS);
  t.equal(confirmationLinkState({ confirmedAt: null, expiresAt }, now), 'open');
  t.equal(confirmationLinkState({ confirmedAt: null, expiresAt }, new Date(expiresAt.getTime() - 1)), 'open');
  t.equal(confirmationLinkState({ confirmedAt: null, expiresAt }, expiresAt), 'expired');
  t.equal(
    confirmationLinkState({ confirmedAt: now, expiresAt }, new Date(expiresAt.getTime() + 1)),
    'used',
    'a used link says so even after its expiry (kinder than "expired")',
  );
});

t.test('the sweep waits a grace period after expiry', async (t) => {
  t.equal(now.getTime() - sweepCutoff(now).getTime(), CONFIRMATION_SWEEP_GRACE_MS);
});
