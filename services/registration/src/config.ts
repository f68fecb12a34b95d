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
  /**
   * A key with only the `read` scope, for systems that follow the meeting feed (GET /changes): it carries
   * no personal data, but attendance per deal is for the programme's partners, not for everyone.
   */
  READ_API_KEY: z.string().min(24, 'at least 24 characters').optional(),
  /** Creates one upcoming published demo meeting at start, once. */
  SEED_DEMO_DATA: z.stringbool().default(false),
  /** Registrations of meetings that ended longer ago than this are anonymised; 0 turns retention off. */
  RETENTION_MONTHS: z.coerce.number().int().min(0).max(240).default(24),
  /** How often scheduled messages to attendees are looked for (they go out this late at most). */
  MESSAGE_SWEEP_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** How often waitlist offers past their time are closed and passed on (they stay open this late at most). */
  OFFER_SWEEP_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** How often the retention job looks for expired registrations. */
  RETENTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(6 * 60 * 60 * 1000),
  /** New registrations one client address may make into one meeting per hour; 0 turns the budget off. */
  REGISTRATIONS_PER_CLIENT_PER_HOUR: z.coerce.number().int().min(0).default(20),
  /** New registrations of one email address per hour over all meetings (each sends a mail); 0: no budget. */
  REGISTRATIONS_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(0).default(10),
  /** Mails with a fresh manage link to one address per hour (asked for, or registered again); 0: no budget. */
  LINK_MAILS_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(0).default(3),
  /** Requests for a manage link one client address may make per hour; 0 turns the budget off. */
  LINK_REQUESTS_PER_CLIENT_PER_HOUR: z.coerce.number().int().min(0).default(10),
  /**
   * How often the public meeting feed looks for news to announce (webhooks and GET /changes); 0 runs no
   * announcer on this replica.
   */
  MEETING_FEED_INTERVAL_MS: z.coerce.number().int().min(0).default(5000),
  /** At most one seat-level event (and one attendance correction) per meeting per this many ms. */
  MEETING_FEED_THROTTLE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(15 * 60 * 1000),
  /** Longest waitlist of a meeting; registrations beyond it are refused. 0 leaves waitlists unbounded. */
  WAITLIST_LIMIT: z.coerce.number().int().min(0).default(500),
  /** The public HTML registration form asks the browser for a proof of work (ALTCHA, served by this service). */
  REGISTRATION_PROOF_OF_WORK: z.stringbool().default(true),
  /** PBKDF2 iterations per proof-of-work attempt, and the largest number of attempts a challenge needs. */
  PROOF_OF_WORK_COST: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  PROOF_OF_WORK_MAX_COUNTER: z.coerce.number().int().min(2).max(1_000_000).default(5000),
  /**
   * Signs the forms' CSRF tokens and the proof-of-work challenges. Replicas behind one address must share it;
   * when unset, each process draws its own at start (forms opened before a restart must be sent again).
   */
  FORM_SECRET: z.string().min(32, 'at least 32 characters').optional(),
});

export type Config = ReturnType<typeof loadServiceConfig>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
