import type { JsMsg } from '@nats-io/jetstream';
import type { Attributes, Context } from '@opentelemetry/api';
import type { DeliveryMeta } from './consumer-definition.ts';
import { remoteContext } from './trace-context.ts';

function extension(json: unknown, name: 'traceparent' | 'requestid' | 'id'): string | undefined {
  const value = (json as Record<string, unknown> | null)?.[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The trace a delivered event continues: the publish span from the NATS headers, else the producer's context
 * from the event's CloudEvents `traceparent` extension (an event re-published by hand, a dead letter retried).
 */
export function deliveredContext(m: JsMsg, json: unknown): Context {
  const traceparent = m.headers?.get('traceparent') || extension(json, 'traceparent');
  const requestId = m.headers?.get('x-request-id') || extension(json, 'requestid');
  return remoteContext(traceparent, requestId);
}

export function consumerAttributes(
  consumer: string,
  subject: string,
  json: unknown,
  meta: DeliveryMeta,
): Attributes {
  const id = extension(json, 'id');
  return {
    'messaging.system': 'nats',
    'messaging.operation.type': 'process',
    'messaging.destination.name': subject,
    'messaging.consumer.group.name': consumer,
    'messaging.message.delivery_count': meta.deliveryCount,
    ...(id ? { 'messaging.message.id': id } : {}),
  };
}
