import { httpUrlSchema } from '@citydeals/contracts';
import { baseConfigSchema, loadConfig } from '@citydeals/service-kit';
import { z } from 'zod';

/**
 * Unset when empty: docker-compose passes `${OIDC_ISSUER:-}` as an empty value when the operator sets nothing,
 * which means "no single sign-on", not a malformed address.
 */
const unlessEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema);

const minutes = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(fallback);

/**
 * The console shares the services' base variables for HTTP, Postgres and logs. It consumes no events in this
 * slice, so it reads none of the NATS variables.
 */
export const configSchema = baseConfigSchema({ port: 3004, schema: 'console' })
  .pick({
    PORT: true,
    HOST: true,
    DATABASE_URL: true,
    DATABASE_SCHEMA: true,
    DATABASE_POOL_SIZE: true,
    LOG_LEVEL: true,
    RATE_LIMIT_PER_MINUTE: true,
    SHUTDOWN_TIMEOUT_MS: true,
    // Behind an ingress: the login limit and the audit trail need the person's address, not the proxy's.
    TRUST_PROXY: true,
  })
  .extend({
    /** Where staff reach the console; an https address makes the session cookie `Secure`. */
    PUBLIC_BASE_URL: httpUrlSchema.default('http://127.0.0.1:3004'),
    /** Ed25519 private key (PKCS#8 PEM) that signs the per-call staff tokens; the services hold its public key. */
    CONSOLE_SIGNING_KEY: z.string().min(1),
    REGISTRATION_URL: httpUrlSchema.default('http://127.0.0.1:3001'),
    DEAL_TRACKING_URL: httpUrlSchema.default('http://127.0.0.1:3002'),
    NOTIFICATION_URL: httpUrlSchema.default('http://127.0.0.1:3003'),
    /** A session ends this long after its last use. */
    SESSION_IDLE_MINUTES: minutes(60),
    /** …and at the latest this long after login, however busy. */
    SESSION_MAX_MINUTES: minutes(12 * 60),
    /** Wrong passwords in a row before the account is locked for LOGIN_LOCKOUT_MINUTES. */
    LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
    LOGIN_LOCKOUT_MINUTES: minutes(15),
    /** Login attempts a minute from one address, whatever the account. */
    LOGIN_RATE_PER_MINUTE: z.coerce.number().int().min(1).default(10),
    /**
     * Single sign-on through OpenID Connect (authorization code + PKCE); off while unset. The identity's
     * e-mail address must belong to an account made here: unknown identities are refused, not created.
     */
    OIDC_ISSUER: unlessEmpty(httpUrlSchema.optional()),
    OIDC_CLIENT_ID: unlessEmpty(z.string().min(1).optional()),
    /** A confidential client's secret (client_secret_basic); unset for a public client (PKCE alone). */
    OIDC_CLIENT_SECRET: unlessEmpty(z.string().min(1).optional()),
    /** The button's text, e.g. the organisation's name. */
    OIDC_LABEL: z.string().min(1).max(60).default('single sign-on'),
    /** Refuse identities whose provider does not say `email_verified: true` (on unless the provider never says). */
    OIDC_REQUIRE_VERIFIED_EMAIL: z.stringbool().default(true),
  })
  .refine((c) => !c.OIDC_ISSUER || c.OIDC_CLIENT_ID, {
    path: ['OIDC_CLIENT_ID'],
    message: 'OIDC_CLIENT_ID is needed with OIDC_ISSUER',
  });

export type Config = ReturnType<typeof loadServiceConfig>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
