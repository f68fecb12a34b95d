/**
 * Pure rules about meetings: times and time zones, the registration window, reminder offsets and what an
 * edit changed. No I/O; the clock is passed in.
 */

export interface FieldError {
  field: string;
  message: string;
}

const OFFSET_SUFFIX = /(Z|[+-]\d{2}:?\d{2})$/i;

/** Offset of `timeZone` from UTC at `instant`, in milliseconds (Europe/Amsterdam in summer: +2 h). */
export function zoneOffsetMs(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/**
 * The instant a date-time names: as given when it carries an offset, otherwise read as wall-clock time in
 * `timeZone`. A wall-clock time skipped by a DST change resolves to the later side of the gap.
 */
export function resolveInstant(value: string, timeZone: string): Date {
  if (OFFSET_SUFFIX.test(value)) return new Date(value);
  const [datePart, timePart = '00:00'] = value.split('T') as [string, string?];
  const [y, m, d] = datePart.split('-').map(Number) as [number, number, number];
  const [hh, mm, ss = '0'] = timePart.split(':') as [string, string, string?];
  const wall = Date.UTC(y, m - 1, d, Number(hh), Number(mm), Math.floor(Number(ss)));
  const first = wall - zoneOffsetMs(new Date(wall), timeZone);
  const second = wall - zoneOffsetMs(new Date(first), timeZone);
  return new Date(second);
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const MAX_REMINDER_MS = 90 * 24 * 3600 * 1000;

/** Milliseconds of an ISO 8601 duration of weeks, days, hours, minutes and seconds; null otherwise. */
export function durationToMs(duration: string): number | null {
  const match = DURATION.exec(duration);
  if (!match || duration === 'P' || duration.endsWith('T')) return null;
  // Years and months have no fixed length, so "one month before" would be ambiguous for a reminder.
  if (match[1] || match[2]) return null;
  const [w, d, h, min, s] = [match[3], match[4], match[5], match[6], match[7]].map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return ((((w * 7 + d) * 24 + h) * 60 + min) * 60 + s) * 1000;
}

/**
 * Reminder offsets must be positive fixed-length durations of at most 90 days, and no two may name the same
 * moment (PT24H and P1D are the same reminder).
 */
export function validateReminderOffsets(offsets: readonly string[], field = 'reminderOffsets'): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<number, string>();
  offsets.forEach((offset, i) => {
    const ms = durationToMs(offset);
    if (ms === null) {
      errors.push({
        field: `${field}.${i}`,
        message: `${offset} is not a duration in weeks, days, hours or minutes (e.g. P7D, PT2H)`,
      });
    } else if (ms <= 0) {
      errors.push({ field: `${field}.${i}`, message: 'a reminder offset must be longer than zero' });
    } else if (ms > MAX_REMINDER_MS) {
      errors.push({ field: `${field}.${i}`, message: 'a reminder offset may be at most 90 days (P90D)' });
    } else if (seen.has(ms)) {
      errors.push({ field: `${field}.${i}`, message: `${offset} is the same moment as ${seen.get(ms)}` });
    } else {
      seen.set(ms, offset);
    }
  });
  return errors;
}

export interface MeetingTimes {
  startsAt: Date;
  endsAt: Date;
  registrationOpensAt: Date | null;
  registrationClosesAt: Date | null;
}

/** Field names are those of the request body, so a problem points at what the caller sent. */
export function validateMeetingTimes(times: MeetingTimes, prefix = 'body'): FieldError[] {
  const errors: FieldError[] = [];
  if (times.endsAt.getTime() <= times.startsAt.getTime()) {
    errors.push({ field: `${prefix}.endsAt`, message: 'endsAt must be after startsAt' });
  }
  if (times.registrationOpensAt && times.registrationOpensAt.getTime() >= times.startsAt.getTime()) {
    errors.push({
      field: `${prefix}.registrationOpensAt`,
      message: 'registration must open before the start',
    });
  }
  if (times.registrationClosesAt && times.registrationClosesAt.getTime() > times.startsAt.getTime()) {
    errors.push({
      field: `${prefix}.registrationClosesAt`,
      message: 'registration must close no later than the start',
    });
  }
  if (
    times.registrationOpensAt &&
    times.registrationClosesAt &&
    times.registrationClosesAt.getTime() <= times.registrationOpensAt.getTime()
  ) {
    errors.push({
      field: `${prefix}.registrationClosesAt`,
      message: 'registration must close after it opens',
    });
  }
  return errors;
}

export type RegistrationWindow = 'open' | 'not_published' | 'cancelled' | 'not_yet_open' | 'closed';

/** Whether the public may register now. Without an explicit closing time registration closes at the start. */
export function registrationWindow(
  meeting: MeetingTimes & { status: 'draft' | 'published' | 'cancelled' },
  now: Date,
): RegistrationWindow {
  if (meeting.status === 'cancelled') return 'cancelled';
  if (meeting.status !== 'published') return 'not_published';
  if (meeting.registrationOpensAt && now.getTime() < meeting.registrationOpensAt.getTime()) {
    return 'not_yet_open';
  }
  const closesAt = meeting.registrationClosesAt ?? meeting.startsAt;
  if (now.getTime() >= closesAt.getTime()) return 'closed';
  return 'open';
}

/** Names of the fields whose values differ; values compare by their JSON form. */
export function changedFields<K extends string>(
  before: Readonly<Record<K, unknown>>,
  after: Readonly<Record<K, unknown>>,
  keys: readonly K[],
): K[] {
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}
