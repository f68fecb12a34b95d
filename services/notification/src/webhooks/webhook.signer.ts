import { Webhook } from 'standardwebhooks';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The three Standard Webhooks headers for one attempt. The timestamp is the attempt's, so every retry is
 * signed afresh; with two secrets (rotation grace) the signature header lists both, space-separated.
 */
export function signWebhook(
  webhookId: string,
  attemptAt: Date,
  payload: string,
  secrets: readonly string[],
): SignedHeaders {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(webhookId, attemptAt, payload));
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(attemptAt.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
