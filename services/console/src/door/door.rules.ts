export interface MeetingTimes {
  startsAt: string;
  endsAt: string;
  timeZone: string;
}

/** The first meeting that has not ended yet, by start. */
export function nextMeeting<T extends MeetingTimes>(meetings: readonly T[], now: Date): T | undefined {
  return [...meetings]
    .filter((m) => new Date(m.endsAt) > now)
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt))[0];
}
