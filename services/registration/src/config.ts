import { httpUrlSchema } from '@citydeals/contracts';
import { baseConfigSchema, loadConfig, personDigestKeySchema } from '@citydeals/service-kit';
import { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3001, schema: 'registration' }).extend({
  /** Manage links in mails and pages are built on this; it must be the address attendees can reach. */
  PUBLIC_BASE_URL: httpUrlSchema.default('http://127.0.0.1:3001'),
  /**
   * Key of the digest by which an erasure names a person across services (32 bytes, base64); registration
   * and deal-tracking must share it.
   */
  PERSON_DIGEST_KEY: personDigestKeySchema.optional(),
  /** Creates one upcoming published demo meeting at start, once. */
  SEED_DEMO_DATA: z.stringbool().default(false),
  /** Registrations of meetings that ended longer ago than this are anonymised; 0 turns retention off. */
  RETENTION_MONTHS: z.coerce.number().int().min(0).max(240).default(24),
  /** How often the retention job looks for expired registrations. */
  RETENTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(6 * 60 * 60 * 1000),
});

export type Config = ReturnType<typeof loadServiceConfig>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
