import { join } from 'node:path';
import type { ServiceSchema } from '@citydeals/infra/postgres';
import { formatLogLine } from './child-log.ts';
import { REPO_ROOT } from './config.ts';
import { describeExit, type ManagedProcess, startManagedProcess } from './managed-process.ts';
import type { NatsCredentials } from './nats.ts';
import { LOCALHOST } from './ports.ts';

export interface ServiceDefinition {
  /** Folder under services/, and the name on the console. */
  readonly dir: 'registration' | 'deal-tracking' | 'notification' | 'console';
  /** Its schema, database role and NATS user. */
  readonly schema: ServiceSchema;
  readonly title: string;
  readonly defaultPort: number;
  readonly portVariable: 'REGISTRATION_PORT' | 'DEAL_TRACKING_PORT' | 'NOTIFICATION_PORT' | 'CONSOLE_PORT';
}

export const SERVICES: readonly ServiceDefinition[] = Object.freeze([
  {
    dir: 'registration',
    schema: 'registration',
    title: 'Registration',
    defaultPort: 3001,
    portVariable: 'REGISTRATION_PORT',
  },
  {
    dir: 'deal-tracking',
    schema: 'deal_tracking',
    title: 'Deal tracking',
    defaultPort: 3002,
    portVariable: 'DEAL_TRACKING_PORT',
  },
  {
    dir: 'notification',
    schema: 'notification',
    title: 'Notification',
    defaultPort: 3003,
    portVariable: 'NOTIFICATION_PORT',
  },
  {
    dir: 'console',
    schema: 'console',
    title: 'Console',
    defaultPort: 3004,
    portVariable: 'CONSOLE_PORT',
  },
]);

export interface ServiceEnvInput {
  port: number;
  databaseUrl: string;
  natsUrl: string;
  /** Absent: the service inherits whatever NATS_USER/NATS_PASSWORD the launcher was given. */
  natsCredentials?: NatsCredentials;
  /** True when the NATS server has no users, so inherited credentials would only confuse. */
  natsWithoutUsers?: boolean;
  adminKey: string;
  logLevel: string;
  mailDir: string;
  webhookSecretKey?: string | undefined;
  /** Names an erased person to the services that must forget them (registration, deal-tracking). */
  personDigestKey?: string | undefined;
  /** Kept in the data folder, outside the database that holds the hashes. */
  apiKeyPepper?: string | undefined;
  smtpUrl?: string;
  eventNamespace?: string;
  /** The console signs staff tokens with the private key; every service verifies them with the public one. */
  staffTokenKeys?: { privatePem: string; publicPem: string };
  /** Where the console finds the three services, and where notification's door QR codes point. */
  serviceUrls?: { registration: string; dealTracking: string; notification: string; console?: string };
}

// Launcher-only secrets a service has no business holding: each service gets its own password only.
const LAUNCHER_ONLY = [
  'NATS_REGISTRATION_PASSWORD',
  'NATS_DEAL_TRACKING_PASSWORD',
  'NATS_NOTIFICATION_PASSWORD',
  'NATS_ADMIN_PASSWORD',
  'CITYDEALS_DATA_DIR',
  'CITYDEALS_READY_TIMEOUT_MS',
];

export function publicBaseUrl(port: number): string {
  return `http://${LOCALHOST}:${port}`;
}

/** The environment of one service process: the launcher's own, with the stack's settings on top. */
export function buildServiceEnv(
  service: ServiceDefinition,
  input: ServiceEnvInput,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of LAUNCHER_ONLY) delete env[name];
  if (input.natsWithoutUsers) {
    delete env.NATS_USER;
    delete env.NATS_PASSWORD;
  }
  if (input.natsCredentials) {
    env.NATS_USER = input.natsCredentials.user;
    env.NATS_PASSWORD = input.natsCredentials.password;
  }
  if (input.eventNamespace) env.EVENT_NAMESPACE = input.eventNamespace;
  else delete env.EVENT_NAMESPACE;
  delete env.MAIL_DIR;
  delete env.SMTP_URL;
  if (input.personDigestKey && service.dir !== 'notification')
    env.PERSON_DIGEST_KEY ??= input.personDigestKey;
  if (input.apiKeyPepper) env.API_KEY_PEPPER ??= input.apiKeyPepper;
  if (service.dir === 'notification') {
    if (input.smtpUrl) env.SMTP_URL = input.smtpUrl;
    else env.MAIL_DIR = input.mailDir;
    if (input.webhookSecretKey) env.WEBHOOK_SECRET_KEY ??= input.webhookSecretKey;
    // On a laptop the receiver of a webhook is usually a small local program; production keeps refusing
    // loopback targets (these defaults exist only in the local launcher).
    env.WEBHOOK_ALLOWED_HOSTS ??= 'localhost';
    env.WEBHOOK_ALLOWED_CIDRS ??= '127.0.0.0/8,::1/128';
    env.WEBHOOK_ALLOWED_PORTS ??= '*';
    // Operational alerts land with the other mails, so a demo shows them (docs/alerts.md).
    env.OFFICE_ALERT_EMAIL ??= 'kantoor@citydeals.example.org';
    if (input.serviceUrls?.console) env.CONSOLE_URL ??= input.serviceUrls.console;
  }
  if (input.staffTokenKeys) env.STAFF_TOKEN_PUBLIC_KEY = input.staffTokenKeys.publicPem;
  if (service.dir === 'console') {
    if (input.staffTokenKeys) env.CONSOLE_SIGNING_KEY = input.staffTokenKeys.privatePem;
    if (input.serviceUrls) {
      env.REGISTRATION_URL = input.serviceUrls.registration;
      env.DEAL_TRACKING_URL = input.serviceUrls.dealTracking;
      env.NOTIFICATION_URL = input.serviceUrls.notification;
    }
  }
  return {
    ...env,
    PORT: String(input.port),
    HOST: LOCALHOST,
    DATABASE_URL: input.databaseUrl,
    NATS_URL: input.natsUrl,
    ADMIN_API_KEY: input.adminKey,
    LOG_LEVEL: input.logLevel,
    PUBLIC_BASE_URL: publicBaseUrl(input.port),
    // Demo data makes the first look meaningful; services seed once and idempotently. Overridable.
    SEED_DEMO_DATA: base.SEED_DEMO_DATA ?? 'true',
  };
}

// Absolute, so the services start the same whatever folder npm start was run from.
const TSX_LOADER = import.meta.resolve('tsx');

export function startService(
  service: ServiceDefinition,
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
): ManagedProcess {
  return startManagedProcess({
    name: service.dir,
    command: process.execPath,
    args: ['--import', TSX_LOADER, join('services', service.dir, 'src', 'server.ts')],
    cwd: REPO_ROOT,
    env,
    formatLine: formatLogLine,
    onLine,
  });
}

/** Polls GET /health/ready until 200; fails early, with its last lines, if the process exits. */
export async function waitUntilReady(
  service: ServiceDefinition,
  proc: ManagedProcess,
  baseUrl: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (!proc.isRunning()) {
      const status = await proc.exited;
      throw new ServiceFailed(service, `stopped while starting (${describeExit(status)})`, proc);
    }
    try {
      const response = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
      last = `/health/ready answered ${response.status}: ${(await response.text()).slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ServiceFailed(service, `not ready after ${timeoutMs / 1000} s (${last})`, proc);
}

export class ServiceFailed extends Error {
  constructor(
    readonly service: ServiceDefinition,
    reason: string,
    proc: ManagedProcess,
  ) {
    const lines = proc.lastLines(8);
    super(`${service.dir} ${reason}${lines ? `; its last lines:\n${lines}` : '; it wrote nothing'}`);
    this.name = 'ServiceFailed';
  }
}
