import { z } from 'zod';
import { defaultRetryDelaysMs, parseDuration } from './retry.rules.ts';
import { parseCidr, parsePortRanges } from './ssrf.rules.ts';

/** A text variable read by a parser that throws a readable message; the message becomes the config issue. */
const parsed = <T>(fallback: string, parse: (text: string) => T) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const duration = (fallback: string) => parsed(fallback, parseDuration);

const list = z
  .string()
  .default('')
  .transform((text) =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** Settings of webhook delivery, merged into the service's config schema. */
export const webhookConfigShape = {
  /** Delays between attempts after the immediate first one, e.g. `5s,5m,30m,2h,5h,10h,10h`. */
  WEBHOOK_RETRY_SCHEDULE: parsed(defaultRetryDelaysMs.map((ms) => `${ms}ms`).join(','), (text) =>
    text.split(',').map(parseDuration),
  ),
  /** ±fraction of each retry delay drawn at random. */
  WEBHOOK_RETRY_JITTER: z.coerce.number().min(0).max(1).default(0.1),
  WEBHOOK_ATTEMPT_TIMEOUT: duration('15s'),
  /** An endpoint without one success for this long is disabled. */
  WEBHOOK_DISABLE_AFTER: duration('5d'),
  /** How long a later version of a deal waits for an earlier one still being retried to the same endpoint. */
  WEBHOOK_ORDER_WAIT_LIMIT: duration('1h'),
  /** Grace period of a rotated secret when the request names none. */
  WEBHOOK_ROTATION_GRACE: duration('24h'),
  /** Messages sent at once by this replica; 0 runs no delivery worker here (API-only replica). */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(0).max(256).default(16),
  /** Safety net behind LISTEN/NOTIFY and for retries coming due. */
  WEBHOOK_POLL_INTERVAL: duration('500ms'),
  /** Host names allowed to be or resolve to non-public addresses (development, tests), comma-separated. */
  WEBHOOK_ALLOWED_HOSTS: list.transform((hosts) => hosts.map((h) => h.toLowerCase())),
  /** Address ranges allowed although not public, e.g. `127.0.0.0/8,::1/128`. */
  WEBHOOK_ALLOWED_CIDRS: list.superRefine((cidrs, ctx) => {
    for (const cidr of cidrs) {
      try {
        parseCidr(cidr);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }
  }),
  /** Ports a target URL may use: `80,443` (the default), ranges like `8000-8999`, or `*` for any (tests). */
  WEBHOOK_ALLOWED_PORTS: parsed('80,443', parsePortRanges),
  /** 32 bytes, base64: seals signing secrets at rest with AES-256-GCM. */
  WEBHOOK_SECRET_KEY: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || Buffer.from(v, 'base64').length === 32, '32 bytes, base64-encoded'),
};

const webhookConfigSchema = z.object(webhookConfigShape);
export type WebhookSettings = Readonly<z.output<typeof webhookConfigSchema>>;
