import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import t from 'tap';
import type { HttpProblem } from '../src/problem.ts';
import {
  createStaffTokenVerifier,
  isHeldToday,
  looksLikeStaffToken,
  STAFF_TOKEN_AUDIENCE,
  STAFF_TOKEN_ISSUER,
  scopesOfRole,
  signStaffToken,
} from '../src/staff-token.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const now = new Date('2027-03-11T10:00:00Z');
const rik = { id: 'a1', name: 'Rik Redacteur', email: 'rik@example.nl', role: 'redacteur' as const };
const verifier = createStaffTokenVerifier(publicKey, () => now);
/** The HTTP status a refused token is answered with; 0 when it was accepted. */
const refusal = (verifying: Promise<unknown>) =>
  verifying.then(
    () => 0,
    (err: HttpProblem) => err.problem.status,
  );

t.test('roles map to scopes: beheerder and redacteur admin, lezer read, deur only door', async (t) => {
  t.same(scopesOfRole('beheerder'), ['admin']);
  t.same(scopesOfRole('redacteur'), ['admin']);
  t.same(scopesOfRole('lezer'), ['read']);
  t.same(scopesOfRole('deur'), ['door']);
});

t.test('a signed token names the person; its claims are checked', async (t) => {
  const token = await signStaffToken(privateKey, rik, now);
  t.ok(looksLikeStaffToken(token));
  t.notOk(looksLikeStaffToken('cdk_abcdefghijklmnopqrstuvwxyz0123456789'));
  const staff = await verifier.verify(token);
  t.same(staff, { ...rik, scopes: ['admin'], actor: 'staff:Rik Redacteur <rik@example.nl>' });
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  t.equal(payload.iss, STAFF_TOKEN_ISSUER);
  t.equal(payload.aud, STAFF_TOKEN_AUDIENCE);
  t.ok(payload.exp - payload.iat <= 300, 'lives at most five minutes');
  const long = await signStaffToken(privateKey, rik, now, 3600);
  const longPayload = JSON.parse(Buffer.from(long.split('.')[1]!, 'base64url').toString());
  t.equal(longPayload.exp - longPayload.iat, 300, 'a longer lifetime is cut to five minutes');
});

t.test('refused: expired, another key, wrong audience or issuer, too long a lifetime', async (t) => {
  const expired = await signStaffToken(privateKey, rik, new Date(now.getTime() - 10 * 60_000));
  t.equal(await refusal(verifier.verify(expired)), 401);
  t.equal(await refusal(verifier.verify(await signStaffToken(other.privateKey, rik, now))), 401);
  const iat = Math.floor(now.getTime() / 1000);
  const forge = (aud: string, iss: string, exp: number) =>
    new SignJWT({ name: rik.name, email: rik.email, role: rik.role })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(iss)
      .setAudience(aud)
      .setSubject(rik.id)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(privateKey);
  await t.resolves(verifier.verify(await forge(STAFF_TOKEN_AUDIENCE, STAFF_TOKEN_ISSUER, iat + 300)));
  t.equal(await refusal(verifier.verify(await forge('someone-else', STAFF_TOKEN_ISSUER, iat + 60))), 401);
  t.equal(await refusal(verifier.verify(await forge(STAFF_TOKEN_AUDIENCE, 'someone-else', iat + 60))), 401);
  t.equal(
    await refusal(verifier.verify(await forge(STAFF_TOKEN_AUDIENCE, STAFF_TOKEN_ISSUER, iat + 301))),
    401,
  );
});

t.test('the door scope holds on the meeting’s own days where it is held', async (t) => {
  const meeting = {
    startsAt: '2027-03-11T12:00:00Z',
    endsAt: '2027-03-11T16:30:00Z',
    timeZone: 'Europe/Amsterdam',
  };
  t.ok(isHeldToday(meeting, new Date('2027-03-11T08:00:00Z')));
  t.ok(isHeldToday(meeting, new Date('2027-03-11T22:30:00Z')), '23:30 in Amsterdam is still the 11th');
  t.notOk(isHeldToday(meeting, new Date('2027-03-11T23:30:00Z')), '00:30 in Amsterdam is the 12th');
  t.notOk(isHeldToday(meeting, new Date('2027-03-10T12:00:00Z')));
});

t.test('keys from configuration: PEM, PEM on one line, or base64 DER', async (t) => {
  const { staffSigningKey, staffVerifyingKey } = await import('../src/staff-token.ts');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicDer = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const signer = staffSigningKey(privatePem.replaceAll('\n', '\\n'));
  const token = await signStaffToken(signer, rik, now);
  const byDer = createStaffTokenVerifier(staffVerifyingKey(publicDer), () => now);
  t.equal((await byDer.verify(token)).email, rik.email);
  t.throws(
    () =>
      staffSigningKey(
        generateKeyPairSync('ec', { namedCurve: 'P-256' })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      ),
    /Ed25519/,
  );
});
