import { createHmac } from 'node:crypto';

/** A Standard Webhooks secret (`whsec_` + base64 of 24 random bytes), fixed for the benchmark's peer. */
export const PEER_SECRET = `whsec_${Buffer.from('city-deals-bench-peer-secret!').toString('base64')}`;

/**
 * The three Standard Webhooks headers as the `standardwebhooks` library builds them, with node:crypto's HMAC
 * (as the notification service signs), so that the peer and the service pay the same for signing.
 */
export function standardWebhookHeaders(
  webhookId: string,
  at: Date,
  payload: string,
  secret: string,
): Record<string, string> {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${webhookId}.${timestamp}.${payload}`).digest('base64');
  return { 'webhook-id': webhookId, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
