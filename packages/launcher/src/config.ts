import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The repository root: services, infra files and the default `.data` folder are found from here. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

// 0 asks for any free port (tests use it); unset means the service's conventional port.
const optionalPort = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.coerce.number().int().min(0).max(65_535).optional(),
);

const configSchema = z.object({
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  NATS_URL: optionalString,
  // With an external NATS that has the infra users, each service logs in as its own user.
  NATS_REGISTRATION_PASSWORD: optionalString,
  NATS_DEAL_TRACKING_PASSWORD: optionalString,
  NATS_NOTIFICATION_PASSWORD: optionalString,
  ADMIN_API_KEY: optionalString.pipe(z.string().min(24, 'at least 24 characters').optional()),
  REGISTRATION_PORT: optionalPort,
  DEAL_TRACKING_PORT: optionalPort,
  NOTIFICATION_PORT: optionalPort,
  CONSOLE_PORT: optionalPort,
  LOG_LEVEL: optionalString.pipe(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  ),
  SMTP_URL: optionalString,
  EVENT_NAMESPACE: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and -')
      .optional(),
  ),
  /** Where embedded Postgres, NATS, mails and the dev admin key live; tests point it at a temp folder. */
  CITYDEALS_DATA_DIR: optionalString.transform((v) => resolve(REPO_ROOT, v ?? '.data')),
  /** How long one service may take to answer /health/ready (a cold tsx compile takes a few seconds). */
  CITYDEALS_READY_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
});

export type LauncherConfig = Readonly<z.output<typeof configSchema>>;

export class LauncherConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'LauncherConfigError';
  }
}

/** Parses the environment once; every problem names its variable, all reported together. */
export function loadLauncherConfig(env: NodeJS.ProcessEnv = process.env): LauncherConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    throw new LauncherConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
    );
  }
  return Object.freeze(result.data);
}
