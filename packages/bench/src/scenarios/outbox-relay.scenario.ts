import { createEvent, dealPhaseChanged } from '@citydeals/contracts';
import { createDatabase, migrateSchema } from '@citydeals/db';
import {
  connectNats,
  ensureStream,
  type MessagingTables,
  messagingMigrations,
  namespace,
  OutboxRelay,
} from '@citydeals/messaging';
import { createTestDatabase, eventually, testServers, uniqueName } from '@citydeals/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { sql } from 'kysely';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { type BenchRow, round, throughputRatio } from '../report.ts';

const EVENTS = 20_000;

/** The relay draining committed events, against pipelined JetStream publishes of the same messages. */
export async function outboxRelayScenario(): Promise<BenchRow> {
  const database = await createTestDatabase('cd_bench');
  const schema = 'bench';
  const { db, pool } = createDatabase<MessagingTables>({
    connectionString: database.url,
    schema,
    maxConnections: 4,
  });
  const nc = await connectNats({ url: testServers.natsUrl, name: 'bench-relay' });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const rawNs = namespace(uniqueName('braw'));
  const sysNs = namespace(uniqueName('bsys'));
  const stream = { name: 'DEAL_TRACKING', service: 'deal_tracking' as const, subjects: ['deal_tracking.>'] };
  try {
    await migrateSchema(db, schema, messagingMigrations(schema));
    for (const ns of [rawNs, sysNs]) {
      await ensureStream(jsm, { name: ns.streamName(stream), subjects: ns.streamSubjects(stream) });
    }
    const events = Array.from({ length: EVENTS }, () =>
      createEvent(dealPhaseChanged, {
        id: uuidv7(),
        time: new Date(),
        source: '/deal-tracking',
        subject: dealPhaseChanged.example.dealId,
        data: dealPhaseChanged.example,
      }),
    );
    const payloads = events.map((e) => JSON.stringify(e));

    // Raw: the same messages, pipelined in windows as large as the relay's batches.
    const rawStarted = performance.now();
    for (let i = 0; i < payloads.length; i += 500) {
      await Promise.all(
        payloads
          .slice(i, i + 500)
          .map((p, j) =>
            js.publish(rawNs.subject(dealPhaseChanged.subject), p, { msgID: events[i + j]!.id }),
          ),
      );
    }
    const rawSeconds = (performance.now() - rawStarted) / 1000;

    // System: the rows are committed first (not timed), then the relay drains them.
    for (let i = 0; i < events.length; i += 1000) {
      await db
        .insertInto('outbox')
        .values(
          events.slice(i, i + 1000).map((e, j) => ({
            event_id: e.id,
            subject: dealPhaseChanged.subject,
            payload: payloads[i + j]!,
          })),
        )
        .execute();
    }
    const relay = new OutboxRelay({ pool, schema, nc, namespace: sysNs, logger: pino({ level: 'silent' }) });
    const sysStarted = performance.now();
    relay.start();
    await eventually(() => relay.stats.published >= EVENTS, 300_000, 5);
    const sysSeconds = (performance.now() - sysStarted) / 1000;
    await relay.stop();
    const left = await sql<{
      c: number;
    }>`select count(*)::int as c from bench.outbox where published_at is null`.execute(db);
    const info = await jsm.streams.info(sysNs.streamName(stream));
    if (left.rows[0]!.c !== 0 || info.state.messages !== EVENTS) {
      throw new Error(`relay left ${left.rows[0]!.c} rows; stream has ${info.state.messages} of ${EVENTS}`);
    }

    const system = {
      label: `relay drains ${EVENTS} committed events`,
      value: round(EVENTS / sysSeconds, 0),
      unit: 'events/s',
    };
    const raw = {
      label: `pipelined JetStream publish of ${EVENTS}`,
      value: round(EVENTS / rawSeconds, 0),
      unit: 'msg/s',
    };
    return {
      scenario: 'outbox relay draining 20 000 committed events',
      system,
      raw,
      ratio: throughputRatio(system, raw),
      goal: '≥ 0.8',
      note: `payload ${payloads[0]!.length} bytes`,
    };
  } finally {
    for (const ns of [rawNs, sysNs]) await jsm.streams.delete(ns.streamName(stream)).catch(() => {});
    await nc.close();
    await db.destroy();
    await database.drop();
  }
}
