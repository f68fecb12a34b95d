/**
 * (issue 22, 4) Three nats-server processes as a JetStream cluster; every stream with three replicas; the
 * services connected to all three nodes, each through a TCP proxy. Under a load of registrations and deal
 * changes (webhook endpoint subscribed) first the node leading the registration stream is killed with
 * `kill -9` (and started again on its store), then the node leading the deal stream is cut off — its client
 * and route connections blackholed, so it is partitioned from services and peers alike, then the services'
 * connections to it reset (as a client's keepalive would find them dead), later healed. The services are not
 * restarted. After each fault every committed registration has exactly one confirmation mail and every
 * committed deal change exactly one webhook delivery; nothing for what did not commit.
 */
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { moveStreamLeader, raftLeaders, streamLeader, streamPlacements } from '../src/nats-cluster.ts';
import { loadThroughOutage, sleep } from '../src/outage.ts';
import { System, serviceKeys } from '../src/system.ts';

const system = await System.start({ nats: 'cluster' });
t.teardown(() => system.close());
const cluster = system.natsCluster!;
const registrationStream = `${system.namespace}_REGISTRATION`;
const dealStream = `${system.namespace}_DEAL_TRACKING`;

/** Until every stream of the namespace has a leader and two followers that have caught up. */
async function replicasCurrent(timeoutMs = 60_000): Promise<boolean> {
  return !!(await eventually(
    async () => {
      const placements = await streamPlacements(cluster.url, `${system.namespace}_`).catch(() => []);
      return (
        placements.length === 3 &&
        placements.every((p) => p.leader && p.followers.length === 2 && p.followers.every((f) => f.current))
      );
    },
    timeoutMs,
    500,
  ));
}

t.test(
  'every stream is replicated on all three nodes; the third node is reached only through proxies',
  async (t) => {
    const placements = await streamPlacements(cluster.url, `${system.namespace}_`);
    t.same(
      placements.map((p) => `${p.stream}: R${p.replicas}, ${1 + p.followers.length} nodes`),
      ['REGISTRATION', 'DEAL_TRACKING', 'NOTIFICATION']
        .map((s) => `${system.namespace}_${s}`)
        .sort()
        .map((s) => `${s}: R3, 3 nodes`),
      'each service provisioned its stream with three replicas',
    );
    const n3 = cluster.nodes[2]!;
    const routes = await n3.routes();
    t.equal(routes.length, 2, 'the third node is routed to both others');
    t.same(
      routes.filter((r) => r.solicited),
      [],
      'the third node opened no route itself: every route to it runs through its route proxy',
    );
    t.comment(`raft leaders: ${JSON.stringify(await raftLeaders(cluster.url, `${system.namespace}_`))}`);
  },
);

t.test(
  'the registration stream leader killed with -9, restarted after 5 s: nothing lost, nothing doubled',
  async (t) => {
    let killed = '';
    let successor: string | undefined;
    await loadThroughOutage(t, system, async (load) => {
      killed = (await streamLeader(cluster.url, registrationStream)) ?? '';
      const node = cluster.nodes.find((n) => n.name === killed);
      t.ok(node, `the registration stream has a leader (${killed})`);
      await node!.stop('SIGKILL');
      t.comment(`${killed} killed after ${load.done} operations`);
      successor = await eventually(
        async () => {
          const leader = await streamLeader(cluster.url, registrationStream).catch(() => undefined);
          return leader && leader !== killed ? leader : undefined;
        },
        30_000,
        250,
      );
      t.comment(`${successor} leads the registration stream after ${load.done} operations`);
      await sleep(5_000);
      await node!.start();
      t.ok(await replicasCurrent(), 'the restarted node caught up on every stream');
      t.comment(`${killed} back and current after ${load.done} operations`);
    });
    t.ok(successor && successor !== killed, `another node took over the stream (${killed} → ${successor})`);
  },
);

t.test(
  'the node leading the deal stream cut off from services and peers: nothing lost, nothing doubled',
  async (t) => {
    const n3 = cluster.nodes[2]!;
    const clientProxy = cluster.clientProxies[2]!;
    t.ok(await moveStreamLeader(cluster.url, dealStream, n3.name), `${n3.name} leads the deal stream`);
    // The services picked their node at random: move them (connections to the other nodes reset) until all
    // three are on the node about to be cut, so the cut reaches each of them.
    const allOnN3 = await eventually(
      async () => {
        const names = await n3.clientNames();
        if (serviceKeys.every((s) => names.includes(s))) return true;
        await Promise.all(cluster.clientProxies.slice(0, 2).map((p) => p.resetAll()));
        return false;
      },
      90_000,
      1_500,
    );
    t.ok(allOnN3, `every service is connected to ${n3.name} (${(await n3.clientNames()).join(', ')})`);
    const ledBefore = (await raftLeaders(cluster.url, `${system.namespace}_`))[n3.name] ?? [];
    t.comment(`${n3.name} leads ${ledBefore.length} Raft groups: ${ledBefore.join(', ')}`);
    let successor: string | undefined;
    await loadThroughOutage(t, system, async (load) => {
      await Promise.all([clientProxy.blackhole(), cluster.routeProxy.blackhole()]);
      t.comment(`${n3.name} cut off after ${load.done} operations`);
      successor = await eventually(
        async () => {
          const leader = await streamLeader(cluster.url, dealStream).catch(() => undefined);
          return leader && leader !== n3.name ? leader : undefined;
        },
        30_000,
        250,
      );
      t.comment(`${successor} leads the deal stream after ${load.done} operations`);
      // The services' connections to the cut node hang; they give up on them when they break.
      await clientProxy.resetAll();
      await sleep(8_000);
      t.comment(`${n3.name} still cut off after ${load.done} operations; healing`);
      await Promise.all([clientProxy.resetAll(), cluster.routeProxy.resetAll()]);
      await Promise.all([clientProxy.heal(), cluster.routeProxy.heal()]);
      t.ok(await replicasCurrent(), `${n3.name} rejoined and caught up on every stream`);
    });
    t.ok(
      successor && successor !== n3.name,
      `another node took over the deal stream (${n3.name} → ${successor})`,
    );
  },
);
