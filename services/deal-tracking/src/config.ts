import { baseConfigSchema, loadConfig, personDigestKeySchema } from '@citydeals/service-kit';
import { z } from 'zod';

export const configSchema = baseConfigSchema({ port: 3002, schema: 'deal_tracking' }).extend({
  /**
   * Key of the digest by which an erasure names a person across services (32 bytes, base64); registration
   * and deal-tracking must share it.
   */
  PERSON_DIGEST_KEY: personDigestKeySchema.optional(),
  /** Seeds the eleven deals of the article and one Town Deal at start, once (a second start adds nothing). */
  SEED_DEMO_DATA: z.stringbool().default(false),
  /**
   * A key with only the `read` scope, for systems that follow the change feed (website, dashboards): reads
   * need a key because deals carry the contact addresses of their staff.
   */
  READ_API_KEY: z.string().min(24, 'at least 24 characters').optional(),
});

export type Config = ReturnType<typeof loadServiceConfig>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
