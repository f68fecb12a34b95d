import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  deleteNamespaceStreams,
  freePort,
  type OwnNats,
  type OwnPostgres,
  startOwnNats,
  startOwnPostgres,
  TEST_ADMIN_KEY,
  type TestDatabase,
  testServers,
  uniqueName,
} from '@citydeals/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { type NatsCluster, startNatsCluster } from './nats-cluster.ts';
import { ProxyProcess } from './proxy-process.ts';
import {
  type MailRecorder,
  startMailRecorder,
  startWebhookRecorder,
  type WebhookRecorder,
} from './recorders.ts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export type ServiceKey = 'registration' | 'deal_tracking' | 'notification';
export const serviceKeys: readonly ServiceKey[] = ['registration', 'deal_tracking', 'notification'];
const serviceDir: Record<ServiceKey, string> = {
  registration: 'registration',
  deal_tracking: 'deal-tracking',
  notification: 'notification',
};

export const adminKey = TEST_ADMIN_KEY;
export const adminAuth = Object.freeze({ authorization: `Bearer ${TEST_ADMIN_KEY}` });

/** Children still running; killed if the test process exits without its teardown (e.g. SIGPIPE). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** One service process (a replica) that the scenario can kill -9 and start again on the same port. */
export class ServiceProcess {
  #child: ChildProcess | undefined;
  #output = '';
  /** Every start, including restarts. */
  starts = 0;

  constructor(
    readonly service: ServiceKey,
    readonly replica: number,
    readonly port: number,
    readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    const c = this.#child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  /** The last 4 KB of its log, for failure messages. */
  output(): string {
    return this.#output.slice(-4000);
  }

  /** The requests it answered with a 5xx that are still in its kept log, each with the error it logged. */
  failedRequests(): string[] {
    return this.#output
      .split('\n')
      .filter((line) => line.includes('"request failed"'))
      .map((line) => `${this.service}#${this.replica}: ${line.slice(0, 1500)}`);
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const entry = `services/${serviceDir[this.service]}/src/server.ts`;
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.starts += 1;
    live.add(child);
    child.once('exit', () => live.delete(child));
    const keep = (c: Buffer) => {
      this.#output = (this.#output + c.toString()).slice(-64_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${this.service}#${this.replica} exited during start:\n${this.output()}`);
      }
      try {
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.service}#${this.replica} not ready after ${timeoutMs} ms:\n${this.output()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL (a crash: no shutdown hook runs) or SIGTERM (graceful); resolves when the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(force);
  }
}

export interface SystemOptions {
  /**
   * `own`: a nats-server of the test's own (for scenarios that stop or cut it). `cluster`: three of them as
   * a JetStream cluster, every stream with three replicas, the services connected to all three through
   * TCP proxies (see `startNatsCluster`).
   */
  nats?: 'shared' | 'own' | 'cluster';
  postgres?: 'shared' | 'own';
  replicas?: Partial<Record<ServiceKey, number>>;
  /** Extra environment per service. */
  env?: Partial<Record<ServiceKey, Record<string, string>>>;
  /** Skip starting the processes (the scenario starts them itself). */
  deferStart?: boolean;
  /**
   * Services reach Postgres and NATS through TCP proxies of the test (`system.proxies`) that can cut the
   * network; the harness itself (drain, read-back) goes direct.
   */
  proxied?: boolean;
}

export interface HttpAnswer {
  status: number;
  body: any;
  text: string;
}

/**
 * The three services as separate processes on a database and event namespace of their own, with a
 * recording SMTP server and webhook receiver. `close()` removes everything it created.
 */
export class System {
  readonly processes: Record<ServiceKey, ServiceProcess[]> = {
    registration: [],
    deal_tracking: [],
    notification: [],
  };
  readonly #cleanups: (() => Promise<void> | void)[] = [];
  mail!: MailRecorder;
  hooks!: WebhookRecorder;
  db!: pg.Pool;
  databaseUrl!: string;
  natsUrl!: string;
  ownNats: OwnNats | undefined;
  natsCluster: NatsCluster | undefined;
  ownPostgres: OwnPostgres | undefined;
  proxies: { postgres: ProxyProcess; nats: ProxyProcess } | undefined;
  readonly namespace = uniqueName('fs');

  static async start(options: SystemOptions = {}): Promise<System> {
    const system = new System();
    try {
      await system.#start(options);
    } catch (err) {
      await system.close();
      throw err;
    }
    return system;
  }

  async #start(options: SystemOptions): Promise<void> {
    if (options.nats === 'own') {
      this.ownNats = await startOwnNats();
      this.#cleanups.push(() => this.ownNats?.close());
      this.natsUrl = this.ownNats.url;
    } else if (options.nats === 'cluster') {
      this.natsCluster = await startNatsCluster();
      this.#cleanups.push(() => this.natsCluster?.close());
      this.natsUrl = this.natsCluster.url;
    } else {
      this.natsUrl = testServers.natsUrl;
      this.#cleanups.push(() => removeNamespace(this.natsUrl, this.namespace));
    }
    let adminUrl = testServers.postgresAdminUrl;
    if (options.postgres === 'own') {
      this.ownPostgres = await startOwnPostgres();
      this.#cleanups.push(() => this.ownPostgres?.close());
      adminUrl = this.ownPostgres.url;
    }
    const database = await createTestDatabase('cd_faults', adminUrl);
    this.#cleanups.push(() => database.drop());
    this.databaseUrl = database.url;
    this.db = new pg.Pool({ connectionString: database.url, max: 4 });
    this.db.on('error', () => {});
    this.#cleanups.push(() => this.db.end());

    this.mail = await startMailRecorder();
    this.#cleanups.push(() => this.mail.close());
    this.hooks = await startWebhookRecorder();
    this.#cleanups.push(() => this.hooks.close());

    let serviceDatabaseUrl = this.databaseUrl;
    let serviceNatsUrl = this.natsUrl;
    if (options.proxied) {
      const pgUrl = new URL(this.databaseUrl);
      const natsUrl = new URL(this.natsUrl);
      const postgres = await ProxyProcess.start({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
      this.#cleanups.push(() => postgres.close());
      const nats = await ProxyProcess.start({ host: natsUrl.hostname, port: Number(natsUrl.port || 4222) });
      this.#cleanups.push(() => nats.close());
      this.proxies = { postgres, nats };
      pgUrl.port = String(postgres.port);
      serviceDatabaseUrl = pgUrl.toString();
      natsUrl.port = String(nats.port);
      serviceNatsUrl = natsUrl.toString();
    }
    const cluster: Record<string, string> = this.natsCluster
      ? { NATS_URL: this.natsCluster.serviceUrl, NATS_STREAM_REPLICAS: '3' }
      : {};

    const base = {
      DATABASE_URL: serviceDatabaseUrl,
      NATS_URL: serviceNatsUrl,
      EVENT_NAMESPACE: this.namespace,
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'warn',
      HOST: '127.0.0.1',
      DATABASE_POOL_SIZE: '6',
      SHUTDOWN_TIMEOUT_MS: '10000',
      // The load comes from one address on purpose.
      RATE_LIMIT_PER_MINUTE: '0',
      ...cluster,
    };
    const specific: Record<ServiceKey, Record<string, string>> = {
      registration: {
        RETENTION_MONTHS: '0',
        // The workload registers from one address into few meetings: the budgets are tested on their own.
        REGISTRATIONS_PER_CLIENT_PER_HOUR: '0',
        REGISTRATIONS_PER_ADDRESS_PER_HOUR: '0',
        LINK_REQUESTS_PER_CLIENT_PER_HOUR: '0',
        WAITLIST_LIMIT: '0',
      },
      deal_tracking: {},
      notification: {
        SMTP_URL: this.mail.url,
        MAIL_RETRY_BASE_MS: '200',
        MAIL_RETRY_MAX_MS: '2000',
        MAIL_POLL_MS: '100',
        // Mails sent but not recorded (a crash of the service or its database) go out again when the lease
        // ends; the default 5 min would outlast every drain. The recording SMTP server answers at once.
        MAIL_LEASE_MS: '10000',
        REMINDER_POLL_MS: '200',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
        WEBHOOK_ALLOWED_PORTS: '*',
        WEBHOOK_POLL_INTERVAL: '100ms',
        WEBHOOK_ATTEMPT_TIMEOUT: '2s',
        WEBHOOK_RETRY_SCHEDULE: '200ms,500ms,1s,2s,2s,2s,2s',
        WEBHOOK_RETRY_JITTER: '0',
      },
    };
    for (const service of serviceKeys) {
      const count = options.replicas?.[service] ?? 1;
      for (let replica = 0; replica < count; replica++) {
        const port = await freePort();
        const env = {
          ...base,
          ...specific[service],
          PORT: String(port),
          PUBLIC_BASE_URL: 'https://cop.example.org',
          ...options.env?.[service],
        };
        this.processes[service].push(new ServiceProcess(service, replica, port, env));
      }
    }
    // Processes go down before the database and NATS they use.
    this.#cleanups.push(() => Promise.all(this.all().map((p) => p.stop('SIGKILL'))).then(() => {}));
    if (!options.deferStart) await this.startAll();
  }

  /**
   * A fresh database of its own on the same server (a restore target); `moveTo` points the harness and every
   * service process (from its next start) at it. Both are dropped at `close()`.
   */
  async freshDatabase(): Promise<TestDatabase> {
    const database = await createTestDatabase(
      'cd_faults',
      this.ownPostgres?.url ?? testServers.postgresAdminUrl,
    );
    this.#cleanups.push(() => database.drop());
    return database;
  }

  async moveTo(database: TestDatabase): Promise<void> {
    if (this.proxies) throw new Error('a proxied system cannot move to another database');
    const old = this.db;
    this.databaseUrl = database.url;
    this.db = new pg.Pool({ connectionString: database.url, max: 4 });
    this.db.on('error', () => {});
    for (const p of this.all()) p.env.DATABASE_URL = database.url;
    await old.end();
  }

  all(): ServiceProcess[] {
    return serviceKeys.flatMap((s) => this.processes[s]);
  }

  /** Registration first (it owns meetings), deal-tracking, then notification; replicas of one service at once. */
  async startAll(): Promise<void> {
    for (const service of serviceKeys) {
      await Promise.all(this.processes[service].filter((p) => !p.running).map((p) => p.start()));
    }
  }

  url(service: ServiceKey, replica = 0): string {
    return this.processes[service][replica]!.url;
  }

  /** One HTTP call; a network error is returned as status 0 (the scenario decides what it means). */
  async call(
    service: ServiceKey,
    method: string,
    path: string,
    options: {
      body?: unknown;
      rawBody?: string | Buffer;
      headers?: Record<string, string>;
      replica?: number;
    } = {},
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    try {
      const res = await fetch(`${this.url(service, options.replica ?? 0)}${path}`, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, body: json, text };
    } catch (err) {
      return { status: 0, body: undefined, text: String(err) };
    }
  }

  async query<R = any>(text: string, params: unknown[] = []): Promise<R[]> {
    return (await this.db.query(text, params)).rows as R[];
  }

  async count(table: string, where = 'true'): Promise<number> {
    const rows = await this.query<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`);
    return rows[0]!.n;
  }

  /** Consumers of this namespace with events not yet acked (pending or in flight). */
  async consumerBacklog(): Promise<Record<string, { pending: number; ackPending: number }>> {
    const nc = await connect({ servers: this.natsUrl.split(','), name: 'fault-suite-probe' });
    try {
      const jsm = await jetstreamManager(nc);
      const out: Record<string, { pending: number; ackPending: number }> = {};
      for await (const stream of jsm.streams.list()) {
        if (!stream.config.name.startsWith(`${this.namespace}_`)) continue;
        for await (const c of jsm.consumers.list(stream.config.name)) {
          out[c.name] = { pending: c.num_pending, ackPending: c.num_ack_pending };
        }
      }
      return out;
    } finally {
      await nc.close();
    }
  }

  /**
   * Whether everything committed has gone as far as it can: every outbox relayed, every consumer caught up,
   * no mail queued, no webhook message pending, no reminder due.
   */
  async quietness(): Promise<{ quiet: boolean; detail: Record<string, number> }> {
    const detail: Record<string, number> = {};
    for (const schema of serviceKeys) {
      detail[`${schema}.outbox`] = await this.count(`${schema}.outbox`, 'published_at is null');
    }
    detail['notification.email queued'] = await this.count('notification.email', `status = 'queued'`);
    // Messages of a disabled endpoint wait, by design, until it is enabled again.
    detail['notification.webhook_message pending'] = await this.count(
      'notification.webhook_message m join notification.webhook_endpoint e on e.id = m.endpoint_id',
      `m.status = 'pending' and e.enabled`,
    );
    const shift = Number(this.processes.notification[0]?.env.REMINDER_CLOCK_SHIFT_MS ?? 0);
    detail['notification.reminder due'] = await this.count(
      'notification.reminder',
      `status = 'pending' and due_at <= now() + interval '${shift} milliseconds'`,
    );
    for (const [name, c] of Object.entries(await this.consumerBacklog())) {
      detail[`consumer ${name}`] = c.pending + c.ackPending;
    }
    return { quiet: Object.values(detail).every((n) => n === 0), detail };
  }

  /**
   * Waits until the system is quiet and the recorders saw nothing new for `stableMs` (late duplicates
   * would arrive in that window); throws with the backlog if it never gets there.
   */
  async drain(timeoutMs = 120_000, stableMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    let since = Date.now();
    let detail: Record<string, number> = {};
    for (;;) {
      let quiet = false;
      try {
        ({ quiet, detail } = await this.quietness());
      } catch (err) {
        detail = { [`probe failed: ${(err as Error).message}`]: 1 };
      }
      const seen = `${this.mail.received.length}/${this.hooks.received.length}/${quiet}`;
      if (seen !== last) {
        last = seen;
        since = Date.now();
      }
      if (quiet && Date.now() - since >= stableMs) return;
      if (Date.now() > deadline) {
        throw new Error(`not quiet after ${timeoutMs} ms: ${JSON.stringify(detail)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    for (const cleanup of this.#cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // keep cleaning up the rest
      }
    }
  }
}

async function removeNamespace(natsUrl: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: natsUrl.split(','), name: 'fault-suite-cleanup' });
  try {
    await deleteNamespaceStreams(await jetstreamManager(nc), prefix);
  } finally {
    await nc.close();
  }
}
