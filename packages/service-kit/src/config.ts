import { z } from 'zod';

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
    /** Requests per minute from one client address before 429; 0 turns the limit off (load tests). */
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  });
}

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
