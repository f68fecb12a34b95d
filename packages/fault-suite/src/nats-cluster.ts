import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort } from '@citydeals/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ProxyProcess } from './proxy-process.ts';

/** Children still running; killed if the test process exits without its teardown. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** One nats-server of the cluster: `kill -9`-able and restartable on the same ports and store. */
export class ClusterNode {
  #child: ChildProcess | undefined;
  #output = '';

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly monitorPort: number,
    readonly configFile: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.clientPort}`;
  }

  get running(): boolean {
    const c = this.#child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  output(): string {
    return this.#output.slice(-4000);
  }

  async start(): Promise<void> {
    const child = spawn('nats-server', ['-c', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready:\n${this.output()}`)), 15_000);
      const onData = (chunk: Buffer) => {
        this.#output = (this.#output + chunk.toString()).slice(-64_000);
        if (this.#output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${this.name} exited with ${code}:\n${this.output()}`)));
    });
    await ready;
  }

  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  /** The node's route connections as its monitoring endpoint reports them. */
  async routes(): Promise<{ remote: string; solicited: boolean }[]> {
    const res = await fetch(`http://127.0.0.1:${this.monitorPort}/routez`, {
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await res.json()) as { routes?: { remote_id: string; did_solicit: boolean }[] };
    return (body.routes ?? []).map((r) => ({ remote: r.remote_id, solicited: r.did_solicit }));
  }

  /** Names of the client connections the node has (a service connects under its own name). */
  async clientNames(): Promise<string[]> {
    const res = await fetch(`http://127.0.0.1:${this.monitorPort}/connz?limit=1024`, {
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await res.json()) as { connections?: { name?: string }[] };
    return (body.connections ?? []).map((c) => c.name ?? '');
  }

  /** The server's own id (routes name their peer by it). */
  async serverId(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.monitorPort}/varz`, {
      signal: AbortSignal.timeout(2_000),
    });
    return ((await res.json()) as { server_id: string }).server_id;
  }
}

export interface NatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** Direct URLs of all three nodes, comma-separated (for the harness's own probes). */
  readonly url: string;
  /** What the services get: every node through its client proxy, comma-separated. */
  readonly serviceUrl: string;
  /** One TCP proxy in front of each node's client port, in node order. */
  readonly clientProxies: readonly ProxyProcess[];
  /**
   * The proxy in front of the cluster port of the last node (the one that can be cut off). That node
   * solicits no routes and advertises this proxy, so every route to it runs through here.
   */
  readonly routeProxy: ProxyProcess;
  /** The node (by server name) leading a stream's Raft group. */
  streamLeader(stream: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Three nats-server processes as a JetStream cluster on free loopback ports, each with its own store
 * directory and server name. The services reach each node through a TCP proxy, and the third node's
 * routes run through a proxy too, so a scenario can cut that node off from clients and peers alike.
 */
export async function startNatsCluster(): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'nats-cluster-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // keep cleaning up the rest
      }
    }
  };
  try {
    const ports = await Promise.all(
      [0, 1, 2].map(async () => ({
        client: await freePort(),
        route: await freePort(),
        monitor: await freePort(),
      })),
    );
    const routeProxy = await ProxyProcess.start({ host: '127.0.0.1', port: ports[2]!.route });
    cleanups.push(() => routeProxy.close());
    const viaProxy = `nats-route://127.0.0.1:${routeProxy.port}`;
    const routesOf = [
      [`nats-route://127.0.0.1:${ports[1]!.route}`, viaProxy],
      [`nats-route://127.0.0.1:${ports[0]!.route}`, viaProxy],
      // JetStream refuses a cluster node without configured routes; a route to itself is dropped as such.
      [viaProxy],
    ];
    const nodes = ports.map((p, i) => {
      const name = `n${i + 1}`;
      const store = join(dir, name);
      mkdirSync(store);
      const configFile = join(dir, `${name}.conf`);
      writeFileSync(
        configFile,
        [
          `server_name: ${name}`,
          `listen: 127.0.0.1:${p.client}`,
          `http: 127.0.0.1:${p.monitor}`,
          `jetstream { store_dir: "${store}" }`,
          'cluster {',
          '  name: faults',
          // Clients keep to the URLs they were given (the proxies) instead of learning the nodes' own.
          '  no_advertise: true',
          `  listen: 127.0.0.1:${p.route}`,
          ...(i === 2 ? [`  advertise: 127.0.0.1:${routeProxy.port}`] : []),
          `  routes: [${routesOf[i]!.join(', ')}]`,
          '}',
          '',
        ].join('\n'),
      );
      return new ClusterNode(name, p.client, p.monitor, configFile);
    });
    cleanups.push(() => Promise.all(nodes.map((n) => n.stop('SIGKILL'))).then(() => {}));
    await Promise.all(nodes.map((n) => n.start()));

    const clientProxies: ProxyProcess[] = [];
    for (const node of nodes) {
      const proxy = await ProxyProcess.start({ host: '127.0.0.1', port: node.clientPort });
      cleanups.push(() => proxy.close());
      clientProxies.push(proxy);
    }
    const url = nodes.map((n) => n.url).join(',');
    await waitForJetStream(url);
    return {
      nodes,
      url,
      serviceUrl: clientProxies.map((p) => `nats://127.0.0.1:${p.port}`).join(','),
      clientProxies,
      routeProxy,
      streamLeader: (stream) => streamLeader(url, stream),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Until the cluster has a JetStream meta leader (account info answers). */
export async function waitForJetStream(url: string, timeoutMs = 60_000): Promise<void> {
  const ok = await eventually(
    async () => {
      const nc = await connect({ servers: url.split(','), timeout: 2_000 }).catch(() => undefined);
      if (!nc) return undefined;
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        await jsm.getAccountInfo();
        return true;
      } catch {
        return undefined;
      } finally {
        await nc.close();
      }
    },
    timeoutMs,
    500,
  );
  if (!ok) throw new Error(`JetStream cluster has no meta leader after ${timeoutMs} ms`);
}

export async function streamLeader(url: string, stream: string): Promise<string | undefined> {
  const nc = await connect({ servers: url.split(','), timeout: 2_000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000 });
    return (await jsm.streams.info(stream)).cluster?.leader;
  } finally {
    await nc.close();
  }
}

export interface StreamPlacement {
  stream: string;
  replicas: number;
  leader: string | undefined;
  /** Followers and whether each has caught up with the leader. */
  followers: { name: string; current: boolean }[];
}

/** Every stream whose name starts with `prefix`: configured replicas, leader and followers. */
export async function streamPlacements(url: string, prefix: string): Promise<StreamPlacement[]> {
  const nc = await connect({ servers: url.split(','), timeout: 2_000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000 });
    const out: StreamPlacement[] = [];
    for await (const s of jsm.streams.list()) {
      if (!s.config.name.startsWith(prefix)) continue;
      out.push({
        stream: s.config.name,
        replicas: s.config.num_replicas,
        leader: s.cluster?.leader,
        followers: (s.cluster?.replicas ?? []).map((r) => ({ name: r.name, current: r.current })),
      });
    }
    return out.sort((a, b) => a.stream.localeCompare(b.stream));
  } finally {
    await nc.close();
  }
}

/** Asks a stream's leader to step down until `node` leads it; false if it never does. */
export async function moveStreamLeader(
  url: string,
  stream: string,
  node: string,
  tries = 12,
): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const leader = await streamLeader(url, stream).catch(() => undefined);
    if (leader === node) return true;
    if (leader) {
      const nc = await connect({ servers: url.split(','), timeout: 2_000 });
      try {
        await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, '', { timeout: 5_000 });
      } catch {
        // an election in progress: look again
      } finally {
        await nc.close();
      }
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return (await streamLeader(url, stream).catch(() => undefined)) === node;
}

/** Which node leads each stream's and each durable consumer's Raft group, by node name. */
export async function raftLeaders(url: string, prefix: string): Promise<Record<string, string[]>> {
  const nc = await connect({ servers: url.split(','), timeout: 2_000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000 });
    const out: Record<string, string[]> = {};
    const add = (leader: string | undefined, group: string) => {
      const key = leader ?? '(none)';
      out[key] = [...(out[key] ?? []), group];
    };
    for await (const s of jsm.streams.list()) {
      if (!s.config.name.startsWith(prefix)) continue;
      add(s.cluster?.leader, s.config.name);
      for await (const c of jsm.consumers.list(s.config.name)) add(c.cluster?.leader, c.name);
    }
    return out;
  } finally {
    await nc.close();
  }
}
