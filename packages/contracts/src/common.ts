import { z } from 'zod';

/** Ids of entities and events are UUIDs (events: UUIDv7, so they sort by creation time). */
export const idSchema = z.uuid();

/**
 * The version of the entity an event is about: 1 when it is created, one more for every change. Consumers
 * keep the highest version they have applied and ignore anything older, so late, repeated or reordered
 * events never move a read model backwards.
 */
export const versionSchema = z
  .int()
  .positive()
  .describe('Version of the entity after this change; starts at 1 and grows by one per change.');

/** An instant with an explicit offset, so a reader never has to guess the zone of a wall-clock time. */
export const timestampSchema = z.iso.datetime({ offset: true });

/** A calendar date (no time), e.g. the day a deal was signed. */
export const dateSchema = z.iso.date();

export const languages = ['nl', 'en'] as const;
/** Language of mails and pages; Dutch unless the meeting or attendee says otherwise. */
export const languageSchema = z.enum(languages);
export type Language = z.infer<typeof languageSchema>;

export const slugSchema = z
  .string()
  .min(1)
  .max(120)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lowercase letters, digits and single hyphens');

export const DEFAULT_TIME_ZONE = 'Europe/Amsterdam';

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone the runtime knows; mails render local times in it. */
export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, 'unknown IANA time zone')
  .describe('IANA time zone, e.g. Europe/Amsterdam.');

export const isoDurationSchema = z.iso.duration();

// Not z.httpUrl(): that demands a public domain name and refuses http://127.0.0.1:3001, which every
// local installation uses for its links.
export const httpUrlSchema = z.url({ protocol: /^https?$/, hostname: z.regexes.hostname }).max(2048);

export const actorTypes = ['api_key', 'user', 'system'] as const;
export const actorTypeSchema = z.enum(actorTypes);
export type ActorType = z.infer<typeof actorTypeSchema>;

/** Who made a change; history and the yearly evaluation need it for every change. */
export const actorSchema = z.object({
  type: actorTypeSchema,
  id: z.string().min(1).max(200).describe('Id of the API key, user or system job.'),
  name: z.string().min(1).max(200).nullable().describe('Human-readable name, e.g. "Programmabureau".'),
});
export type Actor = z.infer<typeof actorSchema>;

/** Refines an array so that no value occurs twice. */
export function uniqueItems<T>(values: readonly T[]): boolean {
  return new Set(values).size === values.length;
}
