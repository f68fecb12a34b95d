/** The office's time zone: the replay form's date and time are read in it. */
export const OFFICE_TIME_ZONE = 'Europe/Amsterdam';

function offsetMs(at: Date, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === '-' ? -minutes : minutes) * 60_000;
}

/** A `datetime-local` value (`2026-12-06T09:30`) read as a time in `timeZone`. */
export function localToInstant(local: string, timeZone = OFFICE_TIME_ZONE): Date {
  const asUtc = new Date(`${local}:00Z`);
  // The offset at the guessed instant, then again at the corrected one (right across a DST change).
  const first = new Date(asUtc.getTime() - offsetMs(asUtc, timeZone));
  return new Date(asUtc.getTime() - offsetMs(first, timeZone));
}

/** The form's default: a day before `now`, as a `datetime-local` value in `timeZone`. */
export function dayBeforeLocal(now: Date, timeZone = OFFICE_TIME_ZONE): string {
  const at = new Date(now.getTime() - 24 * 3600_000);
  return new Date(at.getTime() + offsetMs(at, timeZone)).toISOString().slice(0, 16);
}
