import { fileURLToPath } from 'node:url';
import { baseConfigSchema, loadConfig } from '@citydeals/service-kit';
import { z } from 'zod';
import { alertConfigShape } from './alerts/alert.config.ts';
import { webhookConfigShape } from './webhooks/webhook.config.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export const configSchema = baseConfigSchema({ port: 3003, schema: 'notification' }).extend({
  /** smtp(s)://user:pass@host:port; without it mails are written as .eml files to MAIL_DIR. */
  SMTP_URL: z
    .url({ protocol: /^smtps?$/ })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  MAIL_DIR: z.string().min(1).default(`${repoRoot}.data/mail`),
  /**
   * Where the office's console is reached. When set, confirmation and promotion mails carry a QR code that
   * opens the console's door check-in for that registration (staff login required).
   */
  CONSOLE_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  MAIL_FROM: z.string().min(3).default('City Deals CoP <cop@citydeals.example.org>'),
  /** Right-hand side of every Message-ID. */
  MAIL_MESSAGE_ID_DOMAIN: z.string().min(1).default('cop.citydeals.example.org'),
  /** Delay before the second attempt after an SMTP 4xx; doubles per attempt. */
  MAIL_RETRY_BASE_MS: z.coerce.number().int().min(1).default(60_000),
  MAIL_RETRY_MAX_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(4 * 3600_000),
  MAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  /**
   * While the SMTP server cannot be reached (refused, timed out, 421), sending pauses and a new connection
   * is tried this often; mails keep their attempts and go out in due order as soon as one succeeds.
   */
  SMTP_PROBE_INTERVAL_MS: z.coerce.number().int().min(50).default(1_000),
  /** After this, a mail keeps its log line (who, when, what, status) but loses its text, HTML and calendar file. */
  RETENTION_MAIL_BODY_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(30 * 24 * 3600_000),
  /** Delivered and failed webhook messages and their attempts are deleted after this; at least the streams' max age. */
  RETENTION_WEBHOOK_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(90 * 24 * 3600_000),
  /**
   * How soon a mail coming due for a retry, or whose wake-up was missed, is noticed; mails queued by this
   * replica or (through NOTIFY) another wake the sender at once (`QueueSignal` in packages/work-queue).
   */
  MAIL_POLL_MS: z.coerce.number().int().min(10).default(100),
  MAIL_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
  /**
   * Batches in hand at once; each batch is up to MAIL_BATCH_SIZE mails, leased together and sent at once over
   * the SMTP pool. A crash can repeat at most MAIL_SENDERS × MAIL_BATCH_SIZE mails (the ones in hand), with
   * the same Message-ID.
   */
  MAIL_SENDERS: z.coerce.number().int().min(1).max(16).default(4),
  SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(50).default(5),
  /**
   * How long a sender holds the mails it leased without renewing. It renews every quarter of this while it
   * has them in hand, however slow the SMTP server; if it dies, they go out (again, same Message-ID) once
   * the lease ends. Longer means later resends after a crash; shorter, a stall of the sender (or of the
   * database) must be shorter than this before its mails are taken over.
   */
  MAIL_LEASE_MS: z.coerce.number().int().min(100).default(300_000),
  /** How soon a reminder whose time has come is noticed (an indexed look at due rows). */
  REMINDER_POLL_MS: z.coerce.number().int().min(10).default(250),
  /**
   * Moves the clock of reminder schedules and mail expiry forward, for demos and tests; 0 in production.
   * Only WHEN reminders fall due: mails, their calendar files and the delivery log carry the real time.
   */
  REMINDER_CLOCK_SHIFT_MS: z.coerce.number().int().default(0),
  /** Signs unsubscribe links; when unset, a random secret is generated once and kept in the schema. */
  UNSUBSCRIBE_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  ...webhookConfigShape,
  ...alertConfigShape,
});

export type Config = ReturnType<typeof loadServiceConfig>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
