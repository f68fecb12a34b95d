export interface MeetingTimes {
  startsAt: string;
  endsAt: string;
  timeZone: string;
}

const dayIn = (instant: Date, timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    instant,
  );

/** "Today" is the meeting's own calendar day where it is held, from its start to its end. */
export function isHeldToday(meeting: MeetingTimes, now: Date): boolean {
  const today = dayIn(now, meeting.timeZone);
  return (
    dayIn(new Date(meeting.startsAt), meeting.timeZone) <= today &&
    today <= dayIn(new Date(meeting.endsAt), meeting.timeZone)
  );
}

/** The first meeting that has not ended yet, by start. */
export function nextMeeting<T extends MeetingTimes>(meetings: readonly T[], now: Date): T | undefined {
  return [...meetings]
    .filter((m) => new Date(m.endsAt) > now)
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt))[0];
}
