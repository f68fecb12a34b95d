import type { StreamDefinition } from '@citydeals/contracts';
import { sql } from 'kysely';
import { defineConsumer, on } from '../src/index.ts';
import { itemRecorded, type TestDB } from './fixture.ts';

export { lookupTestType, SCHEMA, type TestDB } from './fixture.ts';

/**
 * A batch consumer that counts how often each event was applied in `svc.received` (`times` > 1 would be a
 * doubled effect); the crash test runs it in a child process and again in the test.
 */
export function batchCountingConsumer(stream: StreamDefinition, filterSubject: string) {
  return defineConsumer<TestDB>({
    name: 'batch-counting-consumer',
    stream,
    filterSubject,
    batch: { maxEvents: 10, maxWaitMs: 5 },
    handlers: [
      on(itemRecorded, async (trx, event) => {
        await sql`insert into svc.received (event_id) values (${event.id})
                  on conflict (event_id) do update set times = received.times + 1`.execute(trx);
      }),
    ],
  });
}
