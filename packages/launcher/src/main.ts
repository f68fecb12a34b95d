// npm start: the whole system on one machine. Postgres and NATS from the environment when given, otherwise
// started here (embedded Postgres, nats-server from PATH) with their data in the data folder; then the three
// services, each with its own database role and NATS user. Ctrl-C stops everything in order.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveAdminKey } from './admin-key.ts';
import { type LauncherConfig, loadLauncherConfig } from './config.ts';
import { ensureConsoleAdmin } from './console-admin.ts';
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
import { decideRestart } from './restart.rules.ts';
import {
  buildServiceEnv,
  publicBaseUrl,
  SERVICES,
  type ServiceDefinition,
  startService,
  waitUntilReady,
} from './services.ts';

// A service drains in the order of docs/architecture.md rule 7 within SHUTDOWN_TIMEOUT_MS (15 s); a little
// more here, then SIGKILL.
const SERVICE_STOP_TIMEOUT_MS = 20_000;

interface RunningService {
  definition: ServiceDefinition;
  port: number;
  env: NodeJS.ProcessEnv;
  process: ManagedProcess;
  /** When it died before, for the restart schedule. */
  crashes: number[];
}

/** The port of `127.0.0.1:5432` or `nats://127.0.0.1:4222`. */
const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));

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
    this.#superviseInfra('Postgres', this.#postgres.process, [], () =>
      startEmbeddedPostgres(
        config.CITYDEALS_DATA_DIR,
        secrets,
        undefined,
        portOf(this.#postgres!.address),
      ).then((handle) => {
        this.#postgres = handle;
        return handle.process;
      }),
    );
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
    this.#superviseInfra('nats-server', this.#nats.process, [], () =>
      this.#startNats(secrets, portOf(this.#nats!.url)).then((handle) => {
        this.#nats = handle;
        return handle.process;
      }),
    );
    const natsLabel =
      this.#nats.kind === 'external'
        ? `NATS from NATS_URL (${this.#nats.url})`
        : `NATS (nats-server${this.#nats.version ? ` ${this.#nats.version}` : ''}, JetStream${this.#nats.kind === 'infra-config' ? ', a user per service' : ''}) on ${this.#nats.url.replace('nats://', '')}`;
    done(natsLabel, t);
    if (this.#nats.note) warn(this.#nats.note);

    const eventNamespace = this.#eventNamespace(this.#nats);
    const mailDir = join(config.CITYDEALS_DATA_DIR, 'mail');
    if (!config.SMTP_URL) await mkdir(mailDir, { recursive: true });

    const ports: { definition: ServiceDefinition; port: number }[] = [];
    for (const definition of SERVICES) {
      const choice = await choosePort(
        config[definition.portVariable],
        definition.defaultPort,
        definition.portVariable,
      );
      if (choice.note) warn(`${definition.dir}: ${choice.note}`);
      ports.push({ definition, port: choice.port });
    }

    const urlOf = (dir: ServiceDefinition['dir']) =>
      publicBaseUrl(ports.find((p) => p.definition.dir === dir)!.port);
    const serviceUrls = {
      registration: urlOf('registration'),
      dealTracking: urlOf('deal-tracking'),
      notification: urlOf('notification'),
      console: urlOf('console'),
    };

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
          apiKeyPepper: secrets.apiKeyPepper,
          eventNamespace,
          staffTokenKeys: secrets.staffTokenKeys,
          serviceUrls,
        });
        const proc = startService(definition, env, childPrinter(definition.dir));
        const running: RunningService = { definition, port, env, process: proc, crashes: [] };
        this.#services.push(running);
        this.#superviseService(running);
        await waitUntilReady(definition, proc, publicBaseUrl(port), config.CITYDEALS_READY_TIMEOUT_MS);
        if (!this.#stopping()) done(`${definition.dir} ready on ${publicBaseUrl(port)}`, t);
      }),
    );
    if (this.#stopping()) return;
    const consoleService = this.#services.find((s) => s.definition.dir === 'console')!;
    const consoleAdmin = await ensureConsoleAdmin(config.CITYDEALS_DATA_DIR, consoleService.env);
    if (this.#stopping()) return;

    this.#phase = 'running';
    process.stdout.write(
      `${summary({
        services: ports,
        mail: config.SMTP_URL ? { smtp: config.SMTP_URL } : { dir: mailDir },
        adminKey,
        consoleAdmin,
        startedInMs: performance.now() - began,
      })}\n`,
    );
  }

  async #startNats(secrets: DevSecrets, port?: number): Promise<NatsHandle> {
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
    return startLocalNats(binary, config.CITYDEALS_DATA_DIR, secrets, undefined, port);
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

  /**
   * A service that dies once the system is up is started again on the same port and environment, after a
   * growing pause, while the others keep running; one that keeps dying is given up on, loudly. While the
   * system is still starting, a death fails the start instead: that is a setup problem to show at once.
   */
  #superviseService(service: RunningService): void {
    const { definition } = service;
    void service.process.exited.then(async (status) => {
      if (this.#stopping()) return;
      const lines = service.process.lastLines(8);
      if (this.#phase === 'starting') {
        failed(`${definition.dir} stopped unexpectedly (${describeExit(status)}); its last lines:\n${lines}`);
        void this.stop(1);
        return;
      }
      const now = performance.now();
      const decision = decideRestart(service.crashes, now);
      service.crashes.push(now);
      if (decision.kind === 'give-up') {
        failed(
          `${definition.dir} stopped unexpectedly (${describeExit(status)}), ${decision.crashes} times within ` +
            `${decision.windowMs / 60_000} min: not restarting it again. The rest keeps running; ` +
            `stop with Ctrl-C and look at its last lines:\n${lines}`,
        );
        return;
      }
      warn(
        `${definition.dir} stopped unexpectedly (${describeExit(status)}); restarting it in ` +
          `${(decision.delayMs / 1000).toFixed(1)} s (restart ${decision.attempt} of ${decision.of}); its last lines:\n${lines}`,
      );
      if (!(await this.#pause(decision.delayMs))) return;
      const t = performance.now();
      service.process = startService(definition, service.env, childPrinter(definition.dir));
      this.#superviseService(service);
      const url = publicBaseUrl(service.port);
      await waitUntilReady(definition, service.process, url, this.config.CITYDEALS_READY_TIMEOUT_MS).then(
        () => {
          if (!this.#stopping()) done(`${definition.dir} ready again on ${url}`, t);
        },
        // Died while starting: its exit handler above decides what happens next.
        (err: Error) => {
          if (!this.#stopping() && service.process.isRunning()) warn(err.message);
        },
      );
    });
  }

  /**
   * The same for the local Postgres and nats-server, restarted on their port so the services reconnect by
   * themselves. A restart that fails (Postgres refuses while the killed server's backends still hold its
   * shared memory) counts as another crash and is tried again later. Without them nothing works, so giving
   * up on one stops everything.
   */
  #superviseInfra(
    name: string,
    proc: ManagedProcess | undefined,
    crashes: number[],
    restart: () => Promise<ManagedProcess | undefined>,
  ): void {
    void proc?.exited.then(async (status) => {
      if (this.#stopping()) return;
      let why = `stopped unexpectedly (${describeExit(status)}); its last lines:\n${proc.lastLines(8)}`;
      if (this.#phase === 'starting') {
        failed(`${name} ${why}`);
        void this.stop(1);
        return;
      }
      for (;;) {
        const now = performance.now();
        const decision = decideRestart(crashes, now);
        crashes.push(now);
        if (decision.kind === 'give-up') {
          failed(
            `${name} failed ${decision.crashes} times within ${decision.windowMs / 60_000} min: ` +
              `giving up and stopping everything. Last: ${why}`,
          );
          void this.stop(1);
          return;
        }
        warn(
          `${name} ${why}\n  restarting it in ${(decision.delayMs / 1000).toFixed(1)} s ` +
            `(restart ${decision.attempt} of ${decision.of})`,
        );
        if (!(await this.#pause(decision.delayMs))) return;
        const t = performance.now();
        const started = restart();
        this.#pendingInfra = started;
        try {
          const next = await started;
          if (this.#stopping()) return;
          done(`${name} running again`, t);
          this.#superviseInfra(name, next, crashes, restart);
          return;
        } catch (err) {
          if (this.#stopping()) return;
          why = `could not be restarted: ${(err as Error).message}`;
        }
      }
    });
  }

  /** Waits `ms`; false when a stop began meanwhile. */
  async #pause(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return !this.#stopping();
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
