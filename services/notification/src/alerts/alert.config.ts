import { z } from 'zod';
import { parseDuration } from '../webhooks/retry.rules.ts';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseDuration(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

/**
 * Settings of operational alerts (docs/alerts.md), merged into the service's config schema. The mail
 * thresholds are those of the Prometheus rules in infra/prometheus/alerts.yml; a test keeps them equal.
 */
export const alertConfigShape = {
  /** Where alerts are mailed; without it they are still events and webhooks, but mailed to nobody. */
  OFFICE_ALERT_EMAIL: z
    .email()
    .optional()
    .or(z.literal('').transform(() => undefined)),
  OFFICE_ALERT_LANGUAGE: z.enum(['nl', 'en']).default('nl'),
  /** At most one alert per cause in this window. */
  ALERT_WINDOW: duration('1h'),
  /** The window the mail figures count (mails created in it, by their status now). */
  ALERT_MAIL_WINDOW: duration('15m'),
  /** Mails failing: more than this share of the window's mails failed for good… */
  ALERT_MAIL_FAILED_RATIO: z.coerce.number().min(0).max(1).default(0.1),
  /** …and the window holds at least this many mails. */
  ALERT_MAIL_MIN_VOLUME: z.coerce.number().int().min(1).default(20),
  /** Mails suppressed: more than this many addresses suppressed after a hard bounce in the window. */
  ALERT_MAIL_SUPPRESSED: z.coerce.number().int().min(0).default(10),
};

const alertConfigSchema = z.object(alertConfigShape);
export type AlertSettings = Readonly<z.output<typeof alertConfigSchema>>;
