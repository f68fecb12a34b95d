import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { HttpProblem, problems } from './problem.ts';

/**
 * A person at the office acts through the console; the console signs a short-lived token per call naming that
 * person, and the services verify it with the console's public key. The services never see a password or a
 * session, and the person (not a shared key) is recorded as the actor. Decision and scopes: docs/console.md.
 */
export const STAFF_TOKEN_ISSUER = 'citydeals-console';
export const STAFF_TOKEN_AUDIENCE = 'citydeals-services';
/** A leaked token is worth little: it is signed per call and refused after this. */
export const STAFF_TOKEN_MAX_LIFETIME_SECONDS = 300;
const ALGORITHM = 'EdDSA';

export const staffRoles = ['beheerder', 'redacteur', 'deur', 'lezer'] as const;
export type StaffRole = (typeof staffRoles)[number];

/**
 * What a role may do in a service. `door` passes no `requireScope` of its own: only routes that accept it
 * explicitly (check-in and the attendee list of a meeting held today) let it through.
 */
export type StaffScope = 'admin' | 'read' | 'door';
export function scopesOfRole(role: StaffRole): readonly StaffScope[] {
  switch (role) {
    case 'beheerder':
    case 'redacteur':
      return ['admin'];
    case 'lezer':
      return ['read'];
    case 'deur':
      return ['door'];
  }
}

export interface StaffIdentity {
  /** The console's account id. */
  id: string;
  name: string;
  email: string;
  role: StaffRole;
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  name: z.string().min(1),
  email: z.string().min(3),
  role: z.enum(staffRoles),
  iat: z.number(),
  exp: z.number(),
});

export interface VerifiedStaff extends StaffIdentity {
  scopes: readonly StaffScope[];
  /** As `request.actor`: `staff:<name> <email>`. */
  actor: string;
}

/**
 * A key from configuration: PEM (with `\n` written literally where an env file wants one line), or the
 * base64 of its DER form (one line: PKCS#8 for the private key, SPKI for the public one).
 */
const isPem = (value: string) => value.includes('-----BEGIN');
const pem = (value: string) => value.replaceAll('\\n', '\n');
const der = (value: string) => Buffer.from(value.trim(), 'base64');

export function staffSigningKey(value: string): KeyObject {
  const key = createPrivateKey(isPem(value) ? pem(value) : { key: der(value), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the signing key must be an Ed25519 private key');
  return key;
}

export function staffVerifyingKey(value: string): KeyObject {
  const key = createPublicKey(isPem(value) ? pem(value) : { key: der(value), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the public key must be an Ed25519 public key');
  return key;
}

export function signStaffToken(
  privateKey: KeyObject,
  staff: StaffIdentity,
  now: Date,
  lifetimeSeconds = 120,
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ name: staff.name, email: staff.email, role: staff.role })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuer(STAFF_TOKEN_ISSUER)
    .setAudience(STAFF_TOKEN_AUDIENCE)
    .setSubject(staff.id)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.min(lifetimeSeconds, STAFF_TOKEN_MAX_LIFETIME_SECONDS))
    .sign(privateKey);
}

export interface StaffTokenVerifier {
  verify(token: string): Promise<VerifiedStaff>;
}

/** Signature, issuer, audience, expiry and a lifetime of at most five minutes; anything else is a 401. */
export function createStaffTokenVerifier(
  publicKey: KeyObject,
  now: () => Date = () => new Date(),
): StaffTokenVerifier {
  return {
    async verify(token) {
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, publicKey, {
          issuer: STAFF_TOKEN_ISSUER,
          audience: STAFF_TOKEN_AUDIENCE,
          algorithms: [ALGORITHM],
          requiredClaims: ['iat', 'exp', 'sub'],
          currentDate: now(),
        }));
      } catch (err) {
        const why =
          err instanceof errors.JWTExpired ? 'the staff token has expired' : 'the staff token is not valid';
        throw new HttpProblem(401, 'unauthorized', 'Authentication required', why);
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success || claims.data.exp - claims.data.iat > STAFF_TOKEN_MAX_LIFETIME_SECONDS) {
        throw new HttpProblem(401, 'unauthorized', 'Authentication required', 'the staff token is not valid');
      }
      const { sub, name, email, role } = claims.data;
      return { id: sub, name, email, role, scopes: scopesOfRole(role), actor: `staff:${name} <${email}>` };
    },
  };
}

/** A JWT has three base64url parts; API keys (`cdk_…`) never contain a dot. */
export function looksLikeStaffToken(bearer: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(bearer);
}

/**
 * The staff-token branch of `requireScope`: 401 without a configured public key or a valid token, 403 when
 * the role's scopes do not include the one asked for (admin includes read, as for keys).
 */
export async function authenticateStaff(
  request: FastifyRequest,
  token: string,
  scope: StaffScope,
): Promise<VerifiedStaff> {
  const verifier = request.server.staffTokens;
  if (!verifier) {
    throw new HttpProblem(
      401,
      'unauthorized',
      'Authentication required',
      'staff tokens are not accepted here',
    );
  }
  const staff = await verifier.verify(token);
  if (!staff.scopes.includes(scope) && !staff.scopes.includes('admin')) throw problems.forbidden(scope);
  request.actor = staff.actor;
  request.staff = staff;
  return staff;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by createService when STAFF_TOKEN_PUBLIC_KEY is configured; null otherwise. */
    staffTokens?: StaffTokenVerifier | null;
  }
  interface FastifyRequest {
    /** The person behind a staff token, when the call came through the console. */
    staff?: VerifiedStaff;
  }
}

const dayIn = (instant: Date, timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    instant,
  );

/**
 * Where the `door` scope holds: a meeting's own calendar days where it is held, from the day it starts to the
 * day it ends. The console picks "today's meeting" with the same rule the service enforces.
 */
export function isHeldToday(
  meeting: { startsAt: Date | string; endsAt: Date | string; timeZone: string },
  now: Date,
): boolean {
  const today = dayIn(now, meeting.timeZone);
  return (
    dayIn(new Date(meeting.startsAt), meeting.timeZone) <= today &&
    today <= dayIn(new Date(meeting.endsAt), meeting.timeZone)
  );
}
