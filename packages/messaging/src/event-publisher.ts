import { type EventDefinition, type EventOf, natsSubjectOf } from '@citydeals/contracts';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { Namespace } from './namespace.ts';

/**
 * Publishes one event straight to JetStream, validated against its contract, with `Nats-Msg-Id` = event id
 * so a repeat inside the duplicate window is dropped by the server. Services publish through the outbox;
 * this is for tools (replays, tests, operators) that have no state change to commit.
 */
export async function publishEvent<D extends EventDefinition>(
  js: JetStreamClient,
  ns: Namespace,
  definition: D,
  event: EventOf<D>,
): Promise<PubAck> {
  const valid = definition.schema.parse(event);
  return js.publish(ns.subject(natsSubjectOf(definition, valid.subject)), JSON.stringify(valid), {
    msgID: valid.id,
  });
}
