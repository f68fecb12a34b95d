import { z } from 'zod';
import { eventCatalog } from './catalog.ts';
import { createEvent, type EventDefinition, type EventOf, TYPE_PREFIX } from './envelope.ts';

export type JsonSchema = { [key: string]: unknown };

interface Reference {
  $ref: string;
}

interface Tag {
  name: string;
  description?: string;
}

export interface AsyncApiMessage {
  name: string;
  title: string;
  summary: string;
  contentType: string;
  headers: JsonSchema;
  payload: JsonSchema;
  tags: Tag[];
  examples: {
    name: string;
    summary: string;
    headers: { 'Nats-Msg-Id': string };
    payload: EventOf<EventDefinition>;
  }[];
}

export interface AsyncApiChannel {
  address: string;
  parameters?: Record<string, { description: string }>;
  title: string;
  description: string;
  messages: Record<string, Reference>;
  tags: Tag[];
}

export interface AsyncApiOperation {
  action: 'send' | 'receive';
  channel: Reference;
  title: string;
  summary: string;
  messages: Reference[];
  tags: Tag[];
}

export interface AsyncApiDocument {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description: string; tags: Tag[] };
  defaultContentType: string;
  servers: Record<string, { host: string; protocol: string; description: string }>;
  channels: Record<string, AsyncApiChannel>;
  operations: Record<string, AsyncApiOperation>;
  components: { messages: Record<string, AsyncApiMessage> };
}

export interface AsyncApiOptions {
  /** Defaults to the whole catalog. */
  events?: readonly EventDefinition[];
  /** Version of the described API (info.version). */
  version?: string;
}

const CONTENT_TYPE = 'application/cloudevents+json';

/**
 * JSON Schema of the full envelope of one event, as a publisher emits it (after defaults are applied).
 * Draft-07, because AsyncAPI's default schema format is a superset of it and tools read it without a
 * schemaFormat hint.
 */
export function eventPayloadJsonSchema(def: EventDefinition): JsonSchema {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(def.schema, { target: 'draft-07', io: 'output' });
  return { title: def.type, description: def.description, ...schema };
}

/** The key of an event's message in `components.messages`, e.g. `registration.meeting.scheduled.v1`. */
export function messageKey(def: EventDefinition): string {
  return def.type.slice(TYPE_PREFIX.length);
}

// The CloudEvents subject is the id of the entity whose version the event carries: the mail, delivery or
// settlement for notification events, the registration for attendee events, the deal for deal content events; an alert's is
// its cause, a consumer fact's the consumer.
const entityIdFields = [
  'cause',
  'emailId',
  'deliveryId',
  'registrationId',
  'dealId',
  'meetingId',
  'erasureId',
  'settlementId',
  'consumer',
] as const;
const timeFields = [
  'occurredAt',
  'sentAt',
  'failedAt',
  'deliveredAt',
  'checkedInAt',
  'raisedAt',
  'deadLetteredAt',
  'checkedAt',
  'recordedAt',
] as const;
// Meeting events have no time of their own; any moment well before the example meeting will do.
const fallbackExampleTime = '2023-09-15T10:00:00+02:00';

function pick(data: Record<string, unknown>, fields: readonly string[]): string | undefined {
  for (const field of fields) {
    const value = data[field];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/** A UUIDv7 whose timestamp is `time`, so the example ids look and sort like real ones. */
function exampleEventId(time: Date, n: number): string {
  const ms = time.getTime().toString(16).padStart(12, '0');
  const seq = n.toString(16).padStart(3, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${seq}-8${seq}-c17e0de0c0de`;
}

/** The example of a definition wrapped in a complete, validated envelope. */
export function exampleEnvelope(def: EventDefinition, n = 0): EventOf<EventDefinition> {
  const data = def.example as Record<string, unknown>;
  const time = new Date(pick(data, timeFields) ?? fallbackExampleTime);
  return createEvent(def, {
    id: exampleEventId(time, n),
    time,
    source: `/citydeals/${def.stream.service}`,
    subject: pick(data, entityIdFields) ?? def.subject,
    data: def.example,
  });
}

/** An AsyncAPI 3.0.0 document of every event: one channel, send operation and message per subject. */
export function buildAsyncApiDocument(options: AsyncApiOptions = {}): AsyncApiDocument {
  const events = options.events ?? eventCatalog;
  const doc: AsyncApiDocument = {
    asyncapi: '3.0.0',
    info: {
      title: 'City Deals Community of Practice: events',
      version: options.version ?? '1.0.0',
      description: [
        'Events published by the registration, deal-tracking and notification services on NATS JetStream.',
        '',
        'Every message is a CloudEvents 1.0 envelope in structured JSON mode; `type` is versioned',
        `(\`${TYPE_PREFIX}<subject>.v<n>\`) and \`subject\` is the id of the entity the event is about.`,
        'The NATS header `Nats-Msg-Id` equals the event id, so JetStream drops duplicates.',
        'Each service publishes on its own stream; channel addresses are given without any deployment prefix.',
        'Events about a meeting, registration or deal carry its `version`, which grows by one per change:',
        'consumers ignore versions they have already passed, so late or repeated events never move state back.',
        'Payload schemas are generated from the zod schemas in `@citydeals/contracts`, which both publishers',
        'and consumers validate with.',
      ].join('\n'),
      tags: [],
    },
    defaultContentType: CONTENT_TYPE,
    servers: {
      local: {
        host: 'localhost:4222',
        protocol: 'nats',
        description: 'NATS with JetStream, as started by `npm start` or `docker compose up`.',
      },
    },
    channels: {},
    operations: {},
    components: { messages: {} },
  };

  const services = new Set<string>();
  events.forEach((def, n) => {
    const service = def.stream.service;
    services.add(service);
    const key = messageKey(def);
    const tags = [{ name: service }];
    const example = exampleEnvelope(def, n);
    doc.components.messages[key] = {
      name: def.type,
      title: def.subject,
      summary: def.description,
      contentType: CONTENT_TYPE,
      headers: {
        type: 'object',
        properties: {
          'Nats-Msg-Id': { type: 'string', format: 'uuid', description: 'Equals the event id.' },
        },
        required: ['Nats-Msg-Id'],
      },
      payload: eventPayloadJsonSchema(def),
      tags,
      examples: [
        {
          name: 'example',
          summary: def.description,
          headers: { 'Nats-Msg-Id': example.id },
          payload: example,
        },
      ],
    };
    doc.channels[def.subject] = {
      address: def.personal ? `${def.subject}.{entity}` : def.subject,
      ...(def.personal
        ? {
            parameters: {
              entity: {
                description:
                  'The id of the entity (the CloudEvents subject). Events with personal data are published ' +
                  'per entity, so that its erasure can purge them from the stream.',
              },
            },
          }
        : {}),
      title: def.subject,
      description: `${def.description}\n\nPublished by the ${service} service on stream \`${def.stream.name}\`.`,
      messages: { [key]: { $ref: `#/components/messages/${key}` } },
      tags,
    };
    doc.operations[`${def.subject}.send`] = {
      action: 'send',
      channel: { $ref: `#/channels/${def.subject}` },
      title: `Publish ${def.subject}`,
      summary: `The ${service} service publishes ${def.type}.`,
      messages: [{ $ref: `#/channels/${def.subject}/messages/${key}` }],
      tags,
    };
  });
  doc.info.tags = [...services].map((name) => ({
    name,
    description: `Events published by the ${name} service.`,
  }));
  return doc;
}
