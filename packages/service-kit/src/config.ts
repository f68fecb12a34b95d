import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_TIMEOUTS } from './http-server.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const DAY_MS = 24 * 3600_000;
const durationMs = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/**
 * Retention of the messaging tables and streams (docs/retention.md); the guarantees between them are checked
 * at start (messagingRetentionProblems in @citydeals/messaging).
 */
const retentionConfigShape = {
  /** Published outbox rows are deleted this long after publishing. */
  RETENTION_OUTBOX_PUBLISHED_MS: durationMs(3600_000),
  /** Inbox rows (which events were applied) are deleted this long after; at least NATS_STREAM_MAX_AGE_MS. */
  RETENTION_INBOX_MS: durationMs(8 * DAY_MS),
  /** Dead letters an operator resolved are deleted this long after; open ones are kept. */
  RETENTION_DEAD_LETTER_MS: durationMs(30 * DAY_MS),
  /** How often a replica tries to prune (one replica at a time does). */
  RETENTION_INTERVAL_MS: durationMs(60_000),
  /** Rows per pruning statement: each is a short transaction of its own. */
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** A stream forgets messages older than this. */
  NATS_STREAM_MAX_AGE_MS: durationMs(7 * DAY_MS),
  /**
   * A stream this full refuses new messages (they wait in the outbox) rather than dropping unread ones.
   * NATS reserves this much of its store for each stream, so it is sized for this system's traffic (about
   * 250 000 events of 1 KB within the max age), not for the disk.
   */
  NATS_STREAM_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(256 * 1024 ** 2),
};

/** The variables every service reads; a service extends this with its own. */
export function baseConfigSchema(defaults: { port: number; schema: string }) {
  return z.object({
    PORT: port(defaults.port),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'lower-case letters, digits and _')
      .default(defaults.schema),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
    NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
    NATS_USER: optionalString,
    NATS_PASSWORD: optionalString,
    /** 3 on a NATS cluster, so a stream survives the loss of a node. */
    NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
    EVENT_NAMESPACE: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and -')
      .default(''),
    ADMIN_API_KEY: z.string().min(24, 'at least 24 characters').optional(),
    /** The console's Ed25519 public key (PEM): staff tokens it signs are accepted as the person (docs/console.md). */
    STAFF_TOKEN_PUBLIC_KEY: optionalString,
    /**
     * Server-side secret of the keyed hash of API keys (`openssl rand -base64 32`). Unset, one is generated
     * and kept in the schema. Changing it invalidates every issued key (configured ones are re-registered).
     */
    API_KEY_PEPPER: z.string().min(32, 'at least 32 characters').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    PUBLIC_BASE_URL: z.url().optional(),
    /** A consumer's failing event is retried after this delay, doubling up to the maximum, then dead-lettered. */
    CONSUMER_RETRY_INITIAL_MS: z.coerce.number().int().min(10).default(1_000),
    CONSUMER_RETRY_MAX_MS: z.coerce
      .number()
      .int()
      .min(10)
      .default(5 * 60_000),
    CONSUMER_MAX_DELIVERIES: z.coerce.number().int().min(1).max(1_000).default(12),
    /**
     * A durable with more unacknowledged events than this, at every check for CONSUMER_LAG_AFTER_MS, is
     * reported as behind (`<service>.consumer.fell_behind`; the same figures as the
     * CityDealsConsumerFallingBehind Prometheus rule). 0 turns the check off.
     */
    CONSUMER_LAG_THRESHOLD: z.coerce.number().int().min(0).default(1_000),
    CONSUMER_LAG_AFTER_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(10 * 60_000),
    CONSUMER_LAG_CHECK_MS: z.coerce.number().int().min(10).default(60_000),
    /** Requests per minute from one client address before 429; 0 turns the limit off (load tests). */
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
    /** To receive a whole request (headers and body); a slower client gets 408 and loses the connection. */
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_TIMEOUTS.requestMs),
    /** A connection with no traffic at all for this long is closed. */
    HTTP_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_TIMEOUTS.idleMs),
    /** An idle keep-alive connection is closed after this; keep it above a load balancer's idle timeout. */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).default(DEFAULT_TIMEOUTS.keepAliveMs),
    /** After a 413, the rest of the body is read and discarded for at most this long. */
    HTTP_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).default(DEFAULT_TIMEOUTS.drainMs),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
    TRUST_PROXY: trustProxySchema,
    ...retentionConfigShape,
  });
}

/**
 * Which hops may name the client in X-Forwarded-For, so rate limits and budgets count clients, not the
 * reverse proxy: `false` (default: none, the peer is the client), a number of hops to trust, or a
 * comma-separated list of proxy addresses or CIDR ranges. `true` trusts any sender and so lets every client
 * choose its own address: only behind a proxy that overwrites the header.
 */
const trustProxySchema = z
  .string()
  .default('false')
  .transform((value, ctx): boolean | number | string[] => {
    const text = value.trim();
    if (text === '' || text === 'false') return false;
    if (text === 'true') return true;
    if (/^\d+$/.test(text)) return Number(text);
    const entries = text.split(',').map((entry) => entry.trim());
    const bad = entries.filter((entry) => {
      const [address, bits, ...rest] = entry.split('/');
      const family = isIP(address ?? '');
      if (family === 0 || rest.length > 0) return true;
      return bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
    });
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `false, true, a number of hops, or addresses/CIDR ranges separated by commas (not: ${bad.join(', ')})`,
      });
      return z.NEVER;
    }
    return entries;
  });

/**
 * Parses the environment once and freezes the result. All problems are reported together, each naming
 * its variable, so a misconfigured deployment fails at start with one readable message.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<z.output<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(environment)';
        const missing = issue.code === 'invalid_type' && (env as Record<string, unknown>)[name] === undefined;
        return `${name}: ${missing ? 'is required but not set' : issue.message}`;
      }),
    );
  }
  return Object.freeze(result.data);
}
