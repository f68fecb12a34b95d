import type { CloudEvent } from '@citydeals/contracts';
import { type RunningService, shutdown } from '@citydeals/service-kit';
import { adminHeaders, eventually, startTestService, type TestServiceContext } from '@citydeals/testkit';
import { sql } from 'kysely';
import { loadServiceConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { startService } from '../src/service.ts';

export type DealTracking = RunningService<Database>;
export const READ_KEY = 'cdk_test-read-key-0123456789abcdef';
export const readHeaders = Object.freeze({ authorization: `Bearer ${READ_KEY}` });

export function startDealTracking(extraEnv: Record<string, string> = {}) {
  return startTestService((env) => startService(loadServiceConfig(env)), shutdown, {
    READ_API_KEY: READ_KEY,
    ...extraEnv,
  });
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
