import { type CloudEvent, WEBHOOK_TEST_MESSAGE_TYPE } from '@citydeals/contracts';

/** The Standard Webhooks recommendation; a larger event is sent thin (ids and version only). */
export const MAX_PAYLOAD_BYTES = 20 * 1024;

/** `webhook-id`: one per (endpoint, event), the same on every attempt; receivers dedupe on it. */
export function webhookIdFor(messageId: string): string {
  return `msg_${messageId.replaceAll('-', '')}`;
}

export interface DealRef {
  dealId: string | null;
  dealVersion: number | null;
}

/** The deal an event is about and its version; none for other events (a meeting's version is not a deal's). */
export function dealRefOf(event: CloudEvent): DealRef {
  const data = event.data as { dealId?: unknown; version?: unknown } | null;
  const dealId = typeof data?.dealId === 'string' ? data.dealId : null;
  return { dealId, dealVersion: dealId !== null && typeof data?.version === 'number' ? data.version : null };
}

/** The entity of a thin body: the deal, or for a public meeting event the meeting. */
function thinData(event: CloudEvent): Record<string, unknown> {
  const data = event.data as { meetingId?: unknown; version?: unknown } | null;
  if (typeof data?.meetingId === 'string' && event.type.includes('.public_meeting.')) {
    return { meetingId: data.meetingId, version: data.version ?? null, truncated: true };
  }
  const { dealId, dealVersion } = dealRefOf(event);
  return { dealId, version: dealVersion, truncated: true };
}

/**
 * The body sent: the CloudEvent itself (type, time, subject, data with the deal's version). In the rare case
 * it exceeds 20 KB, a thin event with `data.truncated = true` is sent instead; the receiver reads the rest
 * from the deal-tracking API (or, for a meeting, registration's GET /changes).
 */
export function webhookPayload(event: CloudEvent): string {
  const full = JSON.stringify(event);
  if (Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES) return full;
  return JSON.stringify({ ...event, data: thinData(event) });
}

/** The type of a test message: a receiver can recognise it and answer 2xx without acting on it. */
export const TEST_EVENT_TYPE = WEBHOOK_TEST_MESSAGE_TYPE;

/** A test message's body: a CloudEvent like every other message, with no deal in it. */
export function testPayload(input: {
  eventId: string;
  endpointId: string;
  time: Date;
  source: string;
}): string {
  return JSON.stringify({
    specversion: '1.0',
    id: input.eventId,
    source: input.source,
    type: TEST_EVENT_TYPE,
    subject: input.endpointId,
    time: input.time.toISOString(),
    datacontenttype: 'application/json',
    data: { endpointId: input.endpointId, test: true },
  });
}
