import type { StreamDefinition } from '@citydeals/contracts';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Namespace } from './namespace.ts';

/** What a handler needs to act on the streams themselves rather than through events. */
export interface StreamAccess {
  readonly jsm: JetStreamManager;
  readonly ns: Namespace;
}

/**
 * Removes every message on `subjectFilter` (without namespace) from a stream, e.g. the personal-data events
 * of an erased registration. Idempotent: a second purge finds nothing. Returns how many messages went.
 */
export async function purgeSubjects(
  { jsm, ns }: StreamAccess,
  stream: StreamDefinition,
  subjectFilter: string,
): Promise<number> {
  const answer = await jsm.streams.purge(ns.streamName(stream), { filter: ns.subject(subjectFilter) });
  if (!answer.success) throw new Error(`purge of ${subjectFilter} in ${stream.name} was refused`);
  return answer.purged;
}
