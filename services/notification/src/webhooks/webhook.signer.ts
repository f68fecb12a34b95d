import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { SECRET_PREFIX } from './secret.rules.ts';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The three Standard Webhooks headers for one attempt. The timestamp is the attempt's, so every retry is
 * signed afresh; with two secrets (rotation grace) the signature header lists both, space-separated.
 *
 * `v1,` + base64(HMAC-SHA256(key, `{id}.{timestamp}.{payload}`)), the key being the secret after `whsec_`,
 * base64-decoded, as the `standardwebhooks` library signs; node:crypto does it natively, where that library
 * hashes in JavaScript, which showed in profiles of the webhook benchmark.
 */
export function signWebhook(
  webhookId: string,
  attemptAt: Date,
  payload: string,
  secrets: readonly string[],
): SignedHeaders {
  const timestamp = String(Math.floor(attemptAt.getTime() / 1000));
  const signed = `${webhookId}.${timestamp}.${payload}`;
  const signatures = secrets.map(
    (secret) => `v1,${createHmac('sha256', signingKey(secret)).update(signed).digest('base64')}`,
  );
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  };
}

/** Signing keys made; a few endpoints are the usual case. */
const SIGNING_KEYS_LIMIT = 1_000;
const signingKeys = new Map<string, KeyObject>();

/**
 * The HMAC key of a secret, made once: decoding the secret and importing raw bytes as a key on every
 * signature was a visible share of the delivery worker's CPU. Bounded by starting over.
 */
function signingKey(secret: string): KeyObject {
  let key = signingKeys.get(secret);
  if (key) return key;
  const bytes = Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
  if (bytes.length === 0) throw new Error("a signing secret can't be empty");
  key = createSecretKey(bytes);
  if (signingKeys.size >= SIGNING_KEYS_LIMIT) signingKeys.clear();
  signingKeys.set(secret, key);
  return key;
}
