import { createEvent, dealPhaseChanged } from '@citydeals/contracts';
import { connectNats, namespace, publishEvent } from '@citydeals/messaging';
import { createTestDatabase, testServers, uniqueName } from '@citydeals/testkit';
import { jetstream } from '@nats-io/jetstream';
import pg from 'pg';
import { Agent, request } from 'undici';
import { v7 as uuidv7 } from 'uuid';
import { runGraphileWorkerWebhookPeer } from '../peers/graphile-worker-webhooks.peer.ts';
import { databaseCpuSeconds, databaseCpuSpent, machineCpuSeconds } from '../processes.ts';
import { type BenchRow, round, throughputRatio } from '../report.ts';
import {
  adminHeaders,
  type RunningService,
  removeNamespace,
  startService,
  stopService,
  waitUntil,
} from '../services.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../sinks.ts';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 10_000);
/** The service's default WEBHOOK_CONCURRENCY; the raw loop and the peer keep as many POSTs in flight. */
const CONCURRENCY = 16;

/**
 * 10 000 deal events, each a different deal (so delivery order per deal never holds one back), published
 * into the namespace; the notification service turns each into a webhook message for one subscribed
 * endpoint and delivers it, signed, to a local receiver. Against undici POSTing the same bodies there, and
 * against the peer: graphile-worker with one job per delivery, signing, sending and recording each attempt.
 * Beside the rates, the CPU time per delivery of the notification process and of the peer's worker process,
 * which a loaded machine disturbs far less than it does wall-clock time.
 */
export async function webhooksScenario(): Promise<BenchRow> {
  const database = await createTestDatabase('cd_bench_wh');
  const ns = uniqueName('bwh');
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  const nc = await connectNats({ url: testServers.natsUrl, name: 'bench-webhooks' });
  let receiver: WebhookReceiver | undefined;
  let service: RunningService | undefined;
  try {
    receiver = await startWebhookReceiver();
    service = await startService('notification', {
      DATABASE_URL: database.url,
      EVENT_NAMESPACE: ns,
      // The receiver is on loopback, which the SSRF guard refuses unless allowed.
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_ALLOWED_PORTS: '*',
      WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    });
    const created = await fetch(`${service.base}/webhooks/endpoints`, {
      method: 'POST',
      headers: adminHeaders(),
      body: JSON.stringify({
        url: receiver.url,
        description: 'benchmark receiver',
        eventTypes: [dealPhaseChanged.subject],
      }),
    });
    if (created.status !== 201) {
      throw new Error(`creating the endpoint failed: ${created.status} ${await created.text()}`);
    }

    // The CloudEvent subject is the deal, as deal-tracking sets it: consumers serialise per subject.
    const events = Array.from({ length: DELIVERIES }, () => {
      const dealId = uuidv7();
      return createEvent(dealPhaseChanged, {
        id: uuidv7(),
        time: new Date(),
        source: '/deal-tracking',
        subject: dealId,
        data: { ...dealPhaseChanged.example, dealId },
      });
    });
    const js = jetstream(nc);
    const eventNs = namespace(ns);
    const cpuBefore = service.cpuSeconds();
    const dbCpuBefore = await databaseCpuSeconds(database.name);
    const machineBefore = machineCpuSeconds();
    const started = Date.now();
    for (let i = 0; i < events.length; i += 500) {
      await Promise.all(events.slice(i, i + 500).map((e) => publishEvent(js, eventNs, dealPhaseChanged, e)));
    }
    const publishedSeconds = (Date.now() - started) / 1000;
    const sink = receiver;
    const running = service;
    await waitUntil(
      async () => (await sink.count()).distinct >= DELIVERIES,
      420_000,
      async () => {
        const { rows } = await pool.query(
          'select status, count(*)::int as n from notification.webhook_message group by status',
        );
        return `receiver got ${JSON.stringify(await sink.count())} of ${DELIVERIES}; messages ${JSON.stringify(rows)}\n${running.output().slice(-2000)}`;
      },
      50,
    );
    // Read as the last arrival is seen (within one poll of it), before the wait for stragglers.
    const sysMachineMs = machineCpuMs(machineBefore);
    await new Promise((r) => setTimeout(r, 500));
    const got = await receiver.count();
    const { rows } = await pool.query<{ delivered: number; total: number }>(
      `select count(*) filter (where status = 'delivered')::int as delivered, count(*)::int as total
       from notification.webhook_message`,
    );
    if (got.requests !== DELIVERIES || got.distinct !== DELIVERIES || rows[0]!.delivered !== DELIVERIES) {
      throw new Error(
        `receiver got ${got.requests} requests with ${got.distinct} distinct webhook-ids; ${rows[0]!.delivered} of ${rows[0]!.total} messages delivered; expected ${DELIVERIES}`,
      );
    }
    const sysSeconds = (got.last - started) / 1000;
    const sysCpuMs = ((service.cpuSeconds() - cpuBefore) * 1000) / DELIVERIES;
    const sysDbCpuMs =
      (databaseCpuSpent(dbCpuBefore, await databaseCpuSeconds(database.name)) * 1000) / DELIVERIES;
    const timeline = `all events published at ${round(publishedSeconds, 2)} s; ${await deliveryTimeline(pool, started)}`;
    await stopService(service, 'webhooks');
    service = undefined;

    // Raw: the same bodies, POSTed by undici with as many in flight as the service's workers.
    await receiver.reset();
    const bodies = events.map((e) => JSON.stringify(e));
    const agent = new Agent({ connections: CONCURRENCY });
    let next = 0;
    const rawMachineBefore = machineCpuSeconds();
    const rawStarted = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const i = next++;
          const res = await request(receiver!.url, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json', 'webhook-id': `msg_${events[i]!.id}` },
            body: bodies[i],
          });
          await res.body.dump();
          if (res.statusCode !== 204) throw new Error(`raw POST answered ${res.statusCode}`);
        }
      }),
    );
    await agent.close();
    const rawGot = await receiver.count();
    if (rawGot.distinct !== DELIVERIES)
      throw new Error(`raw: receiver got ${rawGot.distinct} of ${DELIVERIES}`);
    const rawSeconds = (rawGot.last - rawStarted) / 1000;
    const rawMachineMs = machineCpuMs(rawMachineBefore);

    // Peer: the same bodies as graphile-worker jobs, to the same receiver.
    await receiver.reset();
    const peerMachineBefore = machineCpuSeconds();
    const peerRun = await runGraphileWorkerWebhookPeer({
      bodies: events.map((e, i) => ({ messageId: e.id, payload: bodies[i]! })),
      receiver,
      concurrency: CONCURRENCY,
    });
    const peerGot = await receiver.count();
    if (peerGot.distinct !== DELIVERIES || peerRun.attemptsRecorded !== DELIVERIES) {
      throw new Error(
        `peer: receiver got ${peerGot.distinct} of ${DELIVERIES}; ${peerRun.attemptsRecorded} attempts recorded`,
      );
    }
    const peerSeconds = (peerGot.last - peerRun.started) / 1000;
    // The peer's run includes making its database and starting its worker; counted, as they are CPU it spent.
    const peerMachineMs = machineCpuMs(peerMachineBefore);
    const peerCpuMs = (peerRun.cpuSeconds * 1000) / DELIVERIES;
    const peerDbCpuMs = (peerRun.databaseCpuSeconds * 1000) / DELIVERIES;

    const system = {
      label: `${DELIVERIES} deal events → webhook messages → signed POSTs (concurrency ${CONCURRENCY})`,
      value: round(DELIVERIES / sysSeconds, 0),
      unit: 'deliveries/s',
    };
    const raw = {
      label: `undici POST loop, ${CONCURRENCY} in flight, same bodies`,
      value: round(DELIVERIES / rawSeconds, 0),
      unit: 'POST/s',
    };
    const peer = {
      label: `graphile-worker 0.17 (concurrency ${CONCURRENCY}, one job per delivery, signed, attempt recorded), same bodies`,
      value: round(DELIVERIES / peerSeconds, 0),
      unit: 'deliveries/s',
    };
    return {
      scenario: '10 000 webhook deliveries',
      system,
      raw,
      ratio: throughputRatio(system, raw),
      peer,
      peerRatio: throughputRatio(system, peer),
      goal: '≥ 0.3 (≥ 2× graphile-worker)',
      note: `body ${bodies[0]!.length} bytes; timed from the first publish (peer: the first job added) to the last arrival; CPU per delivery: notification process ${round(sysCpuMs, 3)} ms + its Postgres backends ${round(sysDbCpuMs, 3)} ms, graphile-worker process ${round(peerCpuMs, 3)} ms + its Postgres backends ${round(peerDbCpuMs, 3)} ms; the whole machine (every process: services, Postgres, NATS, receiver, load) ${round(sysMachineMs, 3)} ms per delivery, raw loop ${round(rawMachineMs, 3)} ms per POST, peer ${round(peerMachineMs, 3)} ms (its database and worker start included); ${timeline}`,
    };
  } finally {
    await stopService(service, 'webhooks');
    await receiver?.stop();
    await nc.close();
    await pool.end();
    await removeNamespace(ns).catch(() => {});
    await database.drop();
  }
}

/** The machine's CPU per delivery since the `machineCpuSeconds()` reading `before`. */
function machineCpuMs(before: number): number {
  return ((machineCpuSeconds() - before) * 1000) / DELIVERIES;
}

/** When the consumer had queued the messages and when the worker had delivered them, from the first publish. */
async function deliveryTimeline(pool: pg.Pool, started: number): Promise<string> {
  const { rows } = await pool.query<{ queued_half: number; queued_all: number; delivered_half: number }>(
    `select extract(epoch from percentile_disc(0.5) within group (order by created_at)) * 1000 as queued_half,
            extract(epoch from max(created_at)) * 1000 as queued_all,
            extract(epoch from percentile_disc(0.5) within group (order by delivered_at)) * 1000 as delivered_half
       from notification.webhook_message`,
  );
  // Cumulative statistics reach the view within a second or so of each transaction; close enough here.
  const { rows: updates } = await pool.query<{ updated: number; hot: number }>(
    `select n_tup_upd::int as updated, n_tup_hot_upd::int as hot from pg_stat_user_tables
      where schemaname = 'notification' and relname = 'webhook_message'`,
  );
  const at = (ms: number) => `${round((ms - started) / 1000, 2)} s`;
  const r = rows[0]!;
  const u = updates[0];
  const hotShare =
    u && u.updated > 0
      ? `; ${Math.round((u.hot / u.updated) * 100)} % of message updates in place (HOT)`
      : '';
  return `half the messages queued at ${at(r.queued_half)}, all at ${at(r.queued_all)}; half delivered at ${at(r.delivered_half)}${hotShare}`;
}
