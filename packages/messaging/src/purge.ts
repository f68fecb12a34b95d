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
 * of an erased registration, each with a secure delete: the server overwrites the message in its store
 * files, where a purge would only mark it removed until the block is compacted. Idempotent: a second call
 * finds nothing. Returns how many messages went.
 */
export async function eraseSubjects(
  { jsm, ns }: StreamAccess,
  stream: StreamDefinition,
  subjectFilter: string,
): Promise<number> {
  const name = ns.streamName(stream);
  const filter = ns.subject(subjectFilter);
  let erased = 0;
  for (let seq = 1; ; ) {
    // The first message on the filter at or after `seq`: `next_by_subj` is served since NATS 2.9, though the
    // client's request type names only `seq` and `last_by_subj`.
    const request = { seq, next_by_subj: filter };
    const message = await jsm.streams.getMessage(name, request);
    if (!message) return erased;
    if (!(await jsm.streams.deleteMessage(name, message.seq, true))) {
      throw new Error(`${name}: message ${message.seq} (${filter}) was not erased`);
    }
    erased += 1;
    seq = message.seq + 1;
  }
}
