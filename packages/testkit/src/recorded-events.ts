import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Events as a producing service really emits them, recorded by that service's own test through its real
 * code path (services/registration/test/event-fixtures.test.ts), so that consumer tests build their events
 * on the producer's shapes instead of on what the test's author believed. Values that differ per run are
 * placeholders: ids as `<id:n>` (numbered by first appearance), secrets as `<secret>`, the public base URL
 * as `<publicBaseUrl>`.
 */
export interface RecordedEvent {
  type: string;
  data: Record<string, unknown>;
}

export const recordedRegistrationEventsFile = fileURLToPath(
  new URL('../fixtures/registration-events.json', import.meta.url),
);

let cache: RecordedEvent[] | undefined;

export function recordedRegistrationEvents(): RecordedEvent[] {
  cache ??= JSON.parse(readFileSync(recordedRegistrationEventsFile, 'utf8')) as RecordedEvent[];
  return cache;
}

/** The first recorded event of a type; a type never recorded is an error, not a guess. */
export function recordedEvent(type: string): RecordedEvent {
  const found = recordedRegistrationEvents().find((e) => e.type === type);
  if (!found) throw new Error(`no recorded event of type ${type} in ${recordedRegistrationEventsFile}`);
  return found;
}

export function writeRecordedRegistrationEvents(events: readonly RecordedEvent[]): void {
  writeFileSync(recordedRegistrationEventsFile, `${JSON.stringify(events, null, 2)}\n`);
  cache = undefined;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Replaces what differs per run by placeholders, so that two recordings of one journey are equal. */
export function normalizeEvents(
  events: readonly RecordedEvent[],
  options: { publicBaseUrl: string; secrets: readonly string[] },
): RecordedEvent[] {
  const ids = new Map<string, string>();
  return events.map((event) => {
    let text = JSON.stringify({ type: event.type, data: event.data });
    for (const secret of options.secrets) text = text.split(secret).join('<secret>');
    text = text.split(options.publicBaseUrl).join('<publicBaseUrl>');
    text = text.replace(UUID, (id) => {
      let placeholder = ids.get(id);
      if (!placeholder) {
        placeholder = `<id:${ids.size + 1}>`;
        ids.set(id, placeholder);
      }
      return placeholder;
    });
    return JSON.parse(text) as RecordedEvent;
  });
}
