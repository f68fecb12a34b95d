// npm start: the whole system on one machine. Postgres and NATS from the environment when given, otherwise
// started here (embedded Postgres, nats-server from PATH) with their data in the data folder; then the three
// services, each with its own database role and NATS user. Ctrl-C stops everything in order.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveAdminKey } from './admin-key.ts';
import { type LauncherConfig, loadLauncherConfig } from './config.ts';
import { childPrinter, displayPath, done, failed, info, summary, warn } from './console-output.ts';
import { type DevSecrets, loadOrCreateDevSecrets } from './dev-secrets.ts';
import { describeExit, type ManagedProcess, runningProcesses } from './managed-process.ts';
import {
  findNatsServer,
  type NatsHandle,
  NatsServerMissing,
  startLocalNats,
  useExternalNats,
} from './nats.ts';
import { choosePort } from './ports.ts';
import { type PostgresHandle, startEmbeddedPostgres, useExternalPostgres } from './postgres.ts';
import {
  buildServiceEnv,
  publicBaseUrl,
  SERVICES,
  type ServiceDefinition,
  startService,
  waitUntilReady,
} from './services.ts';

// A service drains in the order of ARCHITECTURE rule 7 within its own SHUTDOWN_TIMEOUT_MS (15 s); a little
// more here, then SIGKILL.
const SERVICE_STOP_TIMEOUT_MS = 20_000;

interface RunningService {
  definition: ServiceDefinition;
  port: number;
  process: ManagedProcess;
}

type Phase = 'starting' | 'running' | 'stopping';

class Launcher {
  #phase: Phase = 'starting';
  #services: RunningService[] = [];
  #postgres: PostgresHandle | undefined;
  #nats: NatsHandle | undefined;
  // Postgres or NATS being started: a Ctrl-C meanwhile waits for it, so it is stopped, not orphaned.
  #pendingInfra: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: LauncherConfig) {}

  async start(): Promise<void> {
    const began = performance.now();
    const { config } = this;
    await mkdir(config.CITYDEALS_DATA_DIR, { recursive: true });
    info(`data folder: ${displayPath(config.CITYDEALS_DATA_DIR)}`);
    const secrets = await loadOrCreateDevSecrets(config.CITYDEALS_DATA_DIR);
    const adminKey = await resolveAdminKey(config.CITYDEALS_DATA_DIR, config.ADMIN_API_KEY);

    let t = performance.now();
    const postgres = config.DATABASE_URL
      ? useExternalPostgres(config.DATABASE_URL)
      : startEmbeddedPostgres(config.CITYDEALS_DATA_DIR, secrets);
    this.#pendingInfra = postgres;
    this.#postgres = await postgres;
    if (this.#stopping()) return;
    this.#watchInfra('Postgres', this.#postgres.process);
    done(
      this.#postgres.kind === 'external'
        ? `Postgres from DATABASE_URL (${this.#postgres.address})`
        : `Postgres (embedded, ${this.#postgres.freshData ? 'new data folder' : 'existing data'}) on ${this.#postgres.address}`,
      t,
    );

    t = performance.now();
    const nats = this.#startNats(secrets);
    this.#pendingInfra = nats;
    this.#nats = await nats;
    if (this.#stopping()) return;
    this.#watchInfra('nats-server', this.#nats.process);
    const natsLabel =
      this.#nats.kind === 'external'
        ? `NATS from NATS_URL (${this.#nats.url})`
        : `NATS (nats-server${this.#nats.version ? ` ${this.#nats.version}` : ''}, JetStream${this.#nats.kind === 'infra-config' ? ', a user per service' : ''}) on ${this.#nats.url.replace('nats://', '')}`;
    done(natsLabel, t);
    if (this.#nats.note) warn(this.#nats.note);

    const eventNamespace = this.#eventNamespace(this.#nats);
    const mailDir = join(config.CITYDEALS_DATA_DIR, 'mail');
    if (!config.SMTP_URL) await mkdir(mailDir, { recursive: true });

    const ports = [];
    for (const definition of SERVICES) {
      const choice = await choosePort(
        config[definition.portVariable],
        definition.defaultPort,
        definition.portVariable,
      );
      if (choice.note) warn(`${definition.dir}: ${choice.note}`);
      ports.push({ definition, port: choice.port });
    }

    t = performance.now();
    info(`starting ${SERVICES.map((s) => s.dir).join(', ')}…`);
    await Promise.all(
      ports.map(async ({ definition, port }) => {
        if (this.#stopping()) return;
        const env = buildServiceEnv(definition, {
          port,
          databaseUrl: this.#postgres!.serviceUrls[definition.schema],
          natsUrl: this.#nats!.url,
          natsCredentials: this.#nats!.credentials?.[definition.schema],
          natsWithoutUsers: this.#nats!.kind === 'plain',
          adminKey: adminKey.key,
          logLevel: config.LOG_LEVEL,
          mailDir,
          smtpUrl: config.SMTP_URL,
          webhookSecretKey: secrets.webhookSecretKey,
          personDigestKey: secrets.personDigestKey,
          eventNamespace,
        });
        const proc = startService(definition, env, childPrinter(definition.dir));
        const running = { definition, port, process: proc };
        this.#services.push(running);
        this.#watchService(running);
        await waitUntilReady(definition, proc, publicBaseUrl(port), config.CITYDEALS_READY_TIMEOUT_MS);
        if (!this.#stopping()) done(`${definition.dir} ready on ${publicBaseUrl(port)}`, t);
      }),
    );
    if (this.#stopping()) return;

    this.#phase = 'running';
    process.stdout.write(
      `${summary({
        services: ports,
        mail: config.SMTP_URL ? { smtp: config.SMTP_URL } : { dir: mailDir },
        adminKey,
        startedInMs: performance.now() - began,
      })}\n`,
    );
  }

  async #startNats(secrets: DevSecrets): Promise<NatsHandle> {
    const { config } = this;
    if (config.NATS_URL) {
      return useExternalNats(config.NATS_URL, {
        registration: config.NATS_REGISTRATION_PASSWORD,
        deal_tracking: config.NATS_DEAL_TRACKING_PASSWORD,
        notification: config.NATS_NOTIFICATION_PASSWORD,
      });
    }
    const binary = await findNatsServer();
    if (!binary) throw new NatsServerMissing();
    return startLocalNats(binary, config.CITYDEALS_DATA_DIR, secrets);
  }

  /**
   * EVENT_NAMESPACE isolates installations sharing one NATS. The launcher's own nats-server is private to
   * its data folder, and the infra config lets each user publish only un-prefixed subjects
   * (`registration.>`), so a namespace there would only get the services' events refused.
   */
  #eventNamespace(nats: NatsHandle): string | undefined {
    const ns = this.config.EVENT_NAMESPACE;
    if (ns && nats.kind === 'infra-config') {
      warn(`EVENT_NAMESPACE=${ns} is not used: this nats-server is private to the data folder already`);
      return undefined;
    }
    return ns;
  }

  #watchService(service: RunningService): void {
    void service.process.exited.then((status) => {
      if (this.#stopping()) return;
      const lines = service.process.lastLines(8);
      failed(
        `${service.definition.dir} stopped unexpectedly (${describeExit(status)}); its last lines:\n${lines}`,
      );
      void this.stop(1);
    });
  }

  #watchInfra(name: string, proc: ManagedProcess | undefined): void {
    void proc?.exited.then((status) => {
      if (this.#stopping()) return;
      failed(`${name} stopped unexpectedly (${describeExit(status)}); its last lines:\n${proc.lastLines(8)}`);
      void this.stop(1);
    });
  }

  /** Services first (each drains itself), then NATS, then Postgres; exits with `code`. */
  async stop(code: number): Promise<never> {
    if (this.#stopping()) return new Promise<never>(() => {});
    this.#phase = 'stopping';
    const t = performance.now();
    info('stopping…');
    await Promise.all(
      this.#services.map(async ({ definition, process: proc }) => {
        const status = await proc.stop('SIGTERM', SERVICE_STOP_TIMEOUT_MS);
        if (status.signal === 'SIGKILL') warn(`${definition.dir} did not stop in time and was killed`);
      }),
    );
    await this.#pendingInfra.catch(() => {});
    let clean = true;
    for (const [name, handle] of [
      ['NATS', this.#nats],
      ['Postgres', this.#postgres],
    ] as const) {
      await handle?.stop().catch((err: Error) => {
        clean = false;
        failed(`${name} did not stop cleanly: ${err.message}`);
      });
    }
    if (code === 0 && clean) done('stopped cleanly', t);
    process.exit(code);
  }

  /** A second Ctrl-C: no more waiting. */
  force(): never {
    warn('second signal: killing everything now');
    for (const proc of runningProcesses()) proc.killNow();
    process.exit(1);
  }

  // A method, not a field comparison: the phase changes across awaits, which TypeScript's narrowing ignores.
  #stopping(): boolean {
    return this.#phase === 'stopping';
  }

  get phase(): Phase {
    return this.#phase;
  }
}

let config: LauncherConfig;
try {
  config = loadLauncherConfig();
} catch (err) {
  failed((err as Error).message);
  process.exit(1);
}

const launcher = new Launcher(config);
// Under `npm start` one Ctrl-C arrives twice: from the terminal (to the whole foreground group) and again
// from npm, which forwards it to its script. A signal within this window counts as the same press.
const SAME_PRESS_MS = 1_000;
let firstSignalAt = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (launcher.phase === 'stopping') {
      if (performance.now() - firstSignalAt > SAME_PRESS_MS) launcher.force();
      return;
    }
    firstSignalAt = performance.now();
    process.stdout.write('\n');
    void launcher.stop(0);
  });
}
// The children run in their own process groups (so Ctrl-C reaches only the launcher); whatever way the
// launcher ends, none may outlive it.
process.on('exit', () => {
  for (const proc of runningProcesses()) proc.killNow();
});

try {
  await launcher.start();
} catch (err) {
  if (launcher.phase !== 'stopping') {
    failed(err instanceof NatsServerMissing ? err.message : `could not start: ${(err as Error).message}`);
    await launcher.stop(1);
  }
}
