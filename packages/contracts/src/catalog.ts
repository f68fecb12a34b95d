import { z } from 'zod';
import {
  dealCreated,
  dealPhaseChanged,
  dealTermExtended,
  dealTrancheStarted,
  dealUpdated,
  lessonRecorded,
  linkCreated,
  partnerJoined,
  partnerLeft,
  resultRecorded,
} from './deal-tracking.events.ts';
import {
  type EventDefinition,
  type EventOf,
  envelopeSchema,
  type ServiceName,
  serviceNames,
  streams,
  TYPE_PREFIX,
} from './envelope.ts';
import {
  emailFailed,
  emailSent,
  webhookDelivered,
  webhookDeliveriesRecorded,
  webhookFailed,
} from './notification.events.ts';
import {
  alertConsumerFellBehind,
  alertDeadLettered,
  alertEndpointDisabled,
  alertMailsFailed,
  alertMailsSuppressed,
  alertRetriesExhausted,
  dealTrackingConsumerFacts,
  notificationConsumerFacts,
  registrationConsumerFacts,
} from './operations.events.ts';
import {
  publicMeetingAttendanceRecorded,
  publicMeetingCancelled,
  publicMeetingChanged,
  publicMeetingRescheduled,
  publicMeetingScheduled,
  publicMeetingSeatsChanged,
} from './public-meeting.events.ts';
import {
  attendeeCancelled,
  attendeeCheckedIn,
  attendeeCheckInUndone,
  attendeeConfirmationRequested,
  attendeeDetailsChanged,
  attendeeErased,
  attendeeLinkReissued,
  attendeeMarkedNoShow,
  attendeeMessageRequested,
  attendeeNeedsChanged,
  attendeePromoted,
  attendeeRegistered,
  attendeeSeatOffered,
  attendeeSessionPlaceGranted,
  attendeeSubstituted,
  attendeeSurveyRequested,
  attendeeWaitlisted,
  meetingCancelled,
  meetingRescheduled,
  meetingScheduled,
  meetingUpdated,
  personErased,
} from './registration.events.ts';

/** Every event of the system, grouped by publishing service. */
export const eventCatalog = Object.freeze([
  meetingScheduled,
  meetingUpdated,
  meetingRescheduled,
  meetingCancelled,
  attendeeRegistered,
  attendeeWaitlisted,
  attendeePromoted,
  attendeeSeatOffered,
  attendeeCancelled,
  attendeeCheckedIn,
  attendeeCheckInUndone,
  attendeeDetailsChanged,
  attendeeSubstituted,
  attendeeMarkedNoShow,
  attendeeNeedsChanged,
  attendeeErased,
  attendeeSessionPlaceGranted,
  attendeeLinkReissued,
  attendeeConfirmationRequested,
  attendeeSurveyRequested,
  attendeeMessageRequested,
  personErased,
  publicMeetingScheduled,
  publicMeetingChanged,
  publicMeetingRescheduled,
  publicMeetingCancelled,
  publicMeetingSeatsChanged,
  publicMeetingAttendanceRecorded,
  dealCreated,
  dealUpdated,
  dealPhaseChanged,
  dealTermExtended,
  dealTrancheStarted,
  partnerJoined,
  partnerLeft,
  resultRecorded,
  lessonRecorded,
  linkCreated,
  emailSent,
  emailFailed,
  webhookDelivered,
  webhookDeliveriesRecorded,
  webhookFailed,
  registrationConsumerFacts.deadLettered,
  registrationConsumerFacts.fellBehind,
  dealTrackingConsumerFacts.deadLettered,
  dealTrackingConsumerFacts.fellBehind,
  notificationConsumerFacts.deadLettered,
  notificationConsumerFacts.fellBehind,
  alertEndpointDisabled,
  alertRetriesExhausted,
  alertMailsFailed,
  alertMailsSuppressed,
  alertDeadLettered,
  alertConsumerFellBehind,
] as const);

export type CatalogEventDefinition = (typeof eventCatalog)[number];
export type EventType = CatalogEventDefinition['type'];
export type EventSubject = CatalogEventDefinition['subject'];
export type EventDefinitionByType<T extends EventType> = Extract<CatalogEventDefinition, { type: T }>;
export type EventDefinitionBySubject<S extends EventSubject> = Extract<
  CatalogEventDefinition,
  { subject: S }
>;

type EventOfEach<D> = D extends EventDefinition ? EventOf<D> : never;
/** Any event of the catalog, as a union discriminated by `type`. */
export type KnownEvent = EventOfEach<CatalogEventDefinition>;

// Past participles that do not end in -ed; extend when a new event needs one.
const irregularPastTense = new Set([
  'left',
  'sent',
  'held',
  'made',
  'paid',
  'won',
  'lost',
  'done',
  'set',
  'fell',
  'undone',
]);
const subjectPattern = /^([a-z]+(?:_[a-z]+)*)\.([a-z]+(?:_[a-z]+)*)\.([a-z]+(?:_[a-z]+)*)$/;

function isPastTense(action: string): boolean {
  return action.split('_').some((word) => word.endsWith('ed') || irregularPastTense.has(word));
}

/** NATS subject matching: `*` matches one token, `>` one or more trailing tokens. */
export function subjectMatchesFilter(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const token = f[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return f.length === s.length;
}

/**
 * Lists what is wrong with a set of event definitions: duplicate types or subjects, subjects not shaped
 * `<service>.<entity>.<past_tense>`, types not derived from subject and version, or a stream that would not
 * capture the subject. Empty when all is well.
 */
export function checkCatalog(definitions: readonly EventDefinition[]): string[] {
  const problems: string[] = [];
  const types = new Set<string>();
  const subjects = new Set<string>();
  for (const def of definitions) {
    if (types.has(def.type)) problems.push(`duplicate type ${def.type}`);
    types.add(def.type);
    const subjectVersion = `${def.subject} v${def.version}`;
    if (subjects.has(subjectVersion)) problems.push(`duplicate subject ${subjectVersion}`);
    subjects.add(subjectVersion);

    const match = subjectPattern.exec(def.subject);
    if (!match) {
      problems.push(`subject ${def.subject} is not <service>.<entity>.<past_tense> in snake_case`);
      continue;
    }
    const service = match[1] as string;
    const action = match[3] as string;
    if (!(serviceNames as readonly string[]).includes(service)) {
      problems.push(`subject ${def.subject} does not start with a service (${serviceNames.join(', ')})`);
      continue;
    }
    if (!isPastTense(action)) problems.push(`subject ${def.subject} does not end in a past tense`);
    if (!Number.isInteger(def.version) || def.version < 1) {
      problems.push(`event ${def.subject} has version ${def.version}; expected a positive integer`);
    }
    const expectedType = `${TYPE_PREFIX}${def.subject}.v${def.version}`;
    if (def.type !== expectedType)
      problems.push(`event ${def.subject} has type ${def.type}, expected ${expectedType}`);
    const stream = streams[service as ServiceName];
    if (def.stream !== stream) {
      problems.push(`event ${def.subject} is assigned to stream ${def.stream.name}, expected ${stream.name}`);
    }
    if (!def.stream.subjects.some((filter) => subjectMatchesFilter(filter, def.subject))) {
      problems.push(`subject ${def.subject} is not captured by stream ${def.stream.name}`);
    }
  }
  return problems;
}

// A broken catalog must fail at start-up of every service, not at the first publish.
const catalogProblems = checkCatalog(eventCatalog);
if (catalogProblems.length > 0) {
  throw new Error(`invalid event catalog:\n- ${catalogProblems.join('\n- ')}`);
}

const byType = new Map<string, CatalogEventDefinition>(eventCatalog.map((def) => [def.type, def]));
const latestBySubject = new Map<string, CatalogEventDefinition>();
for (const def of eventCatalog) {
  const seen = latestBySubject.get(def.subject);
  if (!seen || seen.version < def.version) latestBySubject.set(def.subject, def);
}

export function findEventByType<T extends EventType>(type: T): EventDefinitionByType<T>;
export function findEventByType(type: string): CatalogEventDefinition | undefined;
export function findEventByType(type: string): CatalogEventDefinition | undefined {
  return byType.get(type);
}

/** The newest version of the event published on `subject`. */
export function findEventBySubject<S extends EventSubject>(subject: S): EventDefinitionBySubject<S>;
export function findEventBySubject(subject: string): CatalogEventDefinition | undefined;
export function findEventBySubject(subject: string): CatalogEventDefinition | undefined {
  return latestBySubject.get(subject);
}

export type DecodeFailureReason = 'invalid_envelope' | 'unknown_type' | 'invalid_data';

export type DecodeResult =
  | { ok: true; definition: CatalogEventDefinition; event: KnownEvent }
  | { ok: false; reason: DecodeFailureReason; type: string | undefined; message: string };

/**
 * Validates a received event (already JSON-parsed) against the catalog. A consumer terminates and
 * dead-letters an event that fails: retrying cannot make it valid.
 */
export function decodeEvent(input: unknown): DecodeResult {
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success) {
    const type =
      typeof (input as { type?: unknown })?.type === 'string' ? (input as { type: string }).type : undefined;
    return { ok: false, reason: 'invalid_envelope', type, message: z.prettifyError(envelope.error) };
  }
  const { type } = envelope.data;
  const definition = findEventByType(type);
  if (!definition) return { ok: false, reason: 'unknown_type', type, message: `unknown event type ${type}` };
  const parsed = definition.schema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, reason: 'invalid_data', type, message: z.prettifyError(parsed.error) };
  }
  return { ok: true, definition, event: parsed.data as KnownEvent };
}
