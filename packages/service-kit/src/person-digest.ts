import { createHmac } from 'node:crypto';
import { z } from 'zod';

/**
 * `PERSON_DIGEST_KEY`: 32 bytes, base64. Every service that matches people across the system by address
 * (registration, deal-tracking) must hold the same key; without it a digest is still stable but anyone
 * who reads the stream can confirm a guessed address.
 */
export const personDigestKeySchema = z
  .base64()
  .transform((value) => Buffer.from(value, 'base64'))
  .refine((key) => key.length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)');

// Stands in for a key when none is configured, so that services without one still agree.
const UNKEYED = Buffer.from('citydeals person digest, no key configured');

/**
 * The digest by which `registration.person.erased` names a person: HMAC-SHA256 of the trimmed, lower-cased
 * address, base64url. One-way, and without the key it cannot be checked against a list of addresses.
 */
export function emailDigest(email: string, key: Buffer | undefined): string {
  return createHmac('sha256', key ?? UNKEYED)
    .update(email.trim().toLowerCase())
    .digest('base64url');
}
