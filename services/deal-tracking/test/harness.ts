import { type CloudEvent, dealTrackingEvents, type EventDefinition } from '@citydeals/contracts';
import type { RunningService } from '@citydeals/service-kit';
import { adminHeaders, eventually, startTestService, type TestServiceContext } from '@citydeals/testkit';
import { sql } from 'kysely';
import type { Test } from 'tap';
import { loadServiceConfig } from '../src/config.ts';
import type { ServiceContext } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { startService } from '../src/service.ts';

export type DealTracking = RunningService<Database, ServiceContext>;
export const READ_KEY = 'cdk_test-read-key-0123456789abcdef';
export const readHeaders = Object.freeze({ authorization: `Bearer ${READ_KEY}` });

/** The whole service on its own database and event namespace; `close()` stops it and removes both. */
export function startDealTracking(extraEnv: Record<string, string> = {}) {
  return startTestService(
    (env) => startService(loadServiceConfig(env)),
    (service) => service.stop(),
    {
      READ_API_KEY: READ_KEY,
      ...extraEnv,
    },
  );
}

export interface Call {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An admin call through inject(); `headers` add to (or, for authorization, replace) the admin key. */
export async function call(service: DealTracking, { method = 'GET', url, body, headers = {} }: Call) {
  const res = await service.http.inject({
    method,
    url,
    headers: { ...adminHeaders, ...headers },
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
}

/** What the service has written: changes, outbox rows and deal versions, to prove a refusal wrote nothing. */
export async function writtenState(service: DealTracking) {
  const db = service.runtime.db;
  const { rows } = await sql<{ changes: number; outbox: number; versions: number }>`
    select (select count(*)::int from deal_change) as changes,
           (select count(*)::int from outbox) as outbox,
           (select coalesce(sum(version), 0)::int from deal) as versions`.execute(db);
  const people = await db
    .selectFrom('deal_person')
    .select(sql<number>`count(*)::int`.as('n'))
    .executeTakeFirstOrThrow();
  const partners = await db.selectFrom('deal_partner').select(['id', 'left_on']).orderBy('id').execute();
  return { ...rows[0]!, people: people.n, partners };
}

/** Every event in the service's JetStream stream (after the relay caught up with `expected` of them). */
export async function publishedEvents(
  service: DealTracking,
  expected: number,
): Promise<CloudEvent<string, any>[]> {
  const { jsm, ns, stream } = service.runtime;
  const name = ns.streamName(stream);
  const count = await eventually(async () => {
    const info = await jsm.streams.info(name);
    return info.state.messages >= expected ? info.state.messages : 0;
  });
  if (!count) throw new Error(`the stream did not reach ${expected} events`);
  const events: CloudEvent<string, any>[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const msg = await jsm.streams.getMessage(name, { seq });
    if (msg) events.push(msg.json());
  }
  return events;
}

export type Ctx = TestServiceContext<DealTracking>;

/**
 * Every change the service recorded published exactly one event, valid against its contract, with the deal's
 * versions 1..n in stream order, naming the same events as the deal's history. The last test of a file that
 * changes deals.
 */
export async function checkEachChangePublishedOnce(t: Test, service: DealTracking): Promise<void> {
  const get = (url: string) => call(service, { url });
  const state = await writtenState(service);
  const events = await publishedEvents(service, state.changes);
  t.equal(events.length, state.changes, 'one event per change, no more');
  t.equal(new Set(events.map((e) => e.id)).size, events.length, 'no event twice');
  const catalog = new Map<string, EventDefinition>(Object.values(dealTrackingEvents).map((d) => [d.type, d]));
  const versionsByDeal = new Map<string, number[]>();
  for (const event of events) {
    const definition = catalog.get(event.type);
    t.ok(definition, `${event.type} is a deal-tracking contract`);
    t.ok(definition?.schema.safeParse(event).success, `${event.type} validates against its contract`);
    t.equal(event.subject, event.data.dealId);
    versionsByDeal.set(event.data.dealId, [
      ...(versionsByDeal.get(event.data.dealId) ?? []),
      event.data.version,
    ]);
  }
  const deals = (await get('/deals?limit=500')).body.items as { id: string; version: number }[];
  t.equal(versionsByDeal.size, deals.length);
  for (const deal of deals) {
    const versions = versionsByDeal.get(deal.id) ?? [];
    t.same(
      versions,
      Array.from({ length: deal.version }, (_, i) => i + 1),
      `${deal.id}: versions 1..${deal.version}, in stream order`,
    );
    const history = (await get(`/deals/${deal.id}/history`)).body.items as { eventId: string }[];
    t.same(
      history.map((h) => h.eventId),
      events.filter((e) => e.data.dealId === deal.id).map((e) => e.id),
      'history and stream name the same events',
    );
  }
}
