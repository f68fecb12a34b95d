import { z } from 'zod';

/** The publishing services; each owns exactly one JetStream stream. */
export const serviceNames = ['registration', 'deal_tracking', 'notification'] as const;
export type ServiceName = (typeof serviceNames)[number];

export interface StreamDefinition {
  /** Stream name without any namespace prefix. */
  readonly name: string;
  readonly service: ServiceName;
  /** Subject filter, without namespace prefix. */
  readonly subjects: readonly string[];
}

export const streams: Readonly<Record<ServiceName, StreamDefinition>> = Object.freeze({
  registration: { name: 'REGISTRATION', service: 'registration', subjects: ['registration.>'] },
  deal_tracking: { name: 'DEAL_TRACKING', service: 'deal_tracking', subjects: ['deal_tracking.>'] },
  notification: { name: 'NOTIFICATION', service: 'notification', subjects: ['notification.>'] },
});

/** Prefix of every CloudEvents `type`; the suffix is the subject plus a version. */
export const TYPE_PREFIX = 'nl.citydeals.';

/** CloudEvents 1.0 structured-mode envelope, with the payload left open. */
export const envelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().min(1),
  type: z.string().startsWith(TYPE_PREFIX),
  subject: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json').optional(),
  /** CloudEvents Distributed Tracing extension: the W3C trace context of the operation that made the event. */
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
  /** Extension: the `x-request-id` of the HTTP request that caused the event, for log correlation. */
  requestid: z.string().min(1).max(128).optional(),
  data: z.unknown(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

export interface EventDefinition<
  Subject extends string = string,
  Type extends string = string,
  Data extends z.ZodType = z.ZodType,
> {
  /** NATS subject without namespace prefix, `<service>.<entity>.<past-tense>`. */
  readonly subject: Subject;
  /** CloudEvents type, versioned. */
  readonly type: Type;
  readonly version: number;
  readonly stream: StreamDefinition;
  readonly description: string;
  readonly data: Data;
  /** A realistic payload, used in docs and tests. */
  readonly example: z.input<Data>;
  /**
   * Carries personal data: published on `<subject>.<entity id>` (see `natsSubjectOf`), so that erasing the
   * entity can purge its messages from the stream by subject.
   */
  readonly personal: boolean;
  /** The full envelope with this event's type and payload. */
  readonly schema: z.ZodType<CloudEvent<Type, z.output<Data>>>;
}

export interface CloudEvent<Type extends string = string, Data = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: Type;
  subject: string;
  time: string;
  datacontenttype?: 'application/json' | undefined;
  traceparent?: string | undefined;
  requestid?: string | undefined;
  data: Data;
}

export type EventOf<D extends EventDefinition> = CloudEvent<D['type'], z.output<D['data']>>;

export function defineEvent<
  const Subject extends string,
  const Version extends number,
  Data extends z.ZodType,
>(def: {
  subject: Subject;
  version: Version;
  description: string;
  data: Data;
  example: z.input<Data>;
  personal?: boolean;
}): EventDefinition<Subject, `${typeof TYPE_PREFIX}${Subject}.v${Version}`, Data> {
  const service = def.subject.split('.')[0] as ServiceName;
  const stream = streams[service];
  if (!stream) throw new Error(`event subject ${def.subject} does not start with a service name`);
  const type = `${TYPE_PREFIX}${def.subject}.v${def.version}` as const;
  // Cast kept: zod cannot name the output of an envelope extended with a generic `Data`; it is a CloudEvent.
  const schema = envelopeSchema.extend({ type: z.literal(type), data: def.data }) as unknown as z.ZodType<
    CloudEvent<typeof type, z.output<Data>>
  >;
  return Object.freeze({ ...def, personal: def.personal ?? false, type, stream, schema });
}

// Entity ids are UUIDs; anything else could add tokens or wildcards to a NATS subject.
const subjectToken = /^[A-Za-z0-9_-]+$/;

/**
 * The NATS subject (without namespace) an event is published on: its definition's subject, and for events
 * with personal data one more token, the entity (CloudEvents `subject`), so that
 * `<service>.<entity>.*.<id>` selects every such message about one entity, e.g. for a purge on erasure.
 */
export function natsSubjectOf(definition: EventDefinition, entity: string): string {
  if (!definition.personal) return definition.subject;
  if (!subjectToken.test(entity))
    throw new Error(`${definition.subject}: entity "${entity}" is not one token`);
  return `${definition.subject}.${entity}`;
}

/** The subject filter of every personal-data message about one entity of a stream's `<entity kind>`. */
export function personalSubjectsOf(entityKind: string, entity: string): string {
  if (!subjectToken.test(entity)) throw new Error(`entity "${entity}" is not one token`);
  return `${entityKind}.*.${entity}`;
}

export interface NewEvent<D extends EventDefinition> {
  id: string;
  time: Date;
  source: string;
  /** The entity the event is about (CloudEvents `subject`), e.g. a registration id. */
  subject: string;
  data: z.input<D['data']>;
}

/** The tracing extension attributes of an event made now; absent when tracing is off. */
export interface TraceExtensions {
  traceparent?: string | undefined;
  requestid?: string | undefined;
}

let traceExtensions: (() => TraceExtensions | undefined) | undefined;

/**
 * Lets the runtime stamp every event made from now on with the trace it is made in. Set only when tracing is
 * on, so with it off an event costs nothing more and looks as it always did.
 */
export function setTraceExtensionSource(source: (() => TraceExtensions | undefined) | undefined): void {
  traceExtensions = source;
}

/** Builds and validates an envelope; throws a ZodError if the payload breaks the contract. */
export function createEvent<D extends EventDefinition>(def: D, input: NewEvent<D>): EventOf<D> {
  return def.schema.parse({
    specversion: '1.0',
    id: input.id,
    source: input.source,
    type: def.type,
    subject: input.subject,
    time: input.time.toISOString(),
    datacontenttype: 'application/json',
    ...traceExtensions?.(),
    data: input.data,
  }) as EventOf<D>;
}
