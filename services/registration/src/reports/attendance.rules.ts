// Which deals came to the Community of Practice, how often, over meetings and years: the evaluation's
// question. Pure: the meetings, the counts per (meeting, deal) and the deals come in, the summary goes out.

export interface AttendanceMeeting {
  id: string;
  title: string;
  startsAt: Date;
  timeZone: string;
}

export interface AttendanceDeal {
  id: string;
  name: string;
  kind: string;
  phase: string;
  /** Deals still under way; only they can be "never" or "rarely" represented. */
  active: boolean;
}

/** People who came (or registered) from one deal to one meeting; `dealId` null: no deal given. */
export interface AttendanceCount {
  meetingId: string;
  dealId: string | null;
  people: number;
}

export interface YearFigures {
  year: number;
  meetings: number;
  meetingsRepresented: number;
  people: number;
}

export interface DealAttendance {
  dealId: string;
  name: string;
  kind: string;
  phase: string;
  meetingsRepresented: number;
  people: number;
  perYear: YearFigures[];
}

export interface AttendanceSummary {
  meetings: { id: string; title: string; startsAt: Date; year: number }[];
  deals: DealAttendance[];
  /** People without a deal (partners from outside, guests). */
  withoutDeal: number;
  neverRepresented: { dealId: string; name: string }[];
  rarelyRepresented: { dealId: string; name: string; meetingsRepresented: number }[];
}

/** The calendar year of the meeting where it is held, not in UTC: a New Year's Eve meeting stays in its year. */
export function meetingYear(meeting: Pick<AttendanceMeeting, 'startsAt' | 'timeZone'>): number {
  return Number(
    new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: meeting.timeZone }).format(meeting.startsAt),
  );
}

/**
 * `rarelyAtMost`: a share of the meetings; an active deal represented at some but no more than that share
 * of them is "rarely represented". Deals are listed most represented first, then by name.
 */
export function summariseAttendance(
  meetings: readonly AttendanceMeeting[],
  counts: readonly AttendanceCount[],
  deals: readonly AttendanceDeal[],
  rarelyAtMost: number,
): AttendanceSummary {
  const yearOf = new Map(meetings.map((m) => [m.id, meetingYear(m)]));
  const years = [...new Set(yearOf.values())].sort((a, b) => a - b);
  const meetingsPerYear = new Map(years.map((y) => [y, 0]));
  for (const year of yearOf.values()) meetingsPerYear.set(year, (meetingsPerYear.get(year) ?? 0) + 1);

  const byDeal = new Map<string, AttendanceCount[]>();
  let withoutDeal = 0;
  for (const count of counts) {
    if (!yearOf.has(count.meetingId) || count.people <= 0) continue;
    if (count.dealId === null) {
      withoutDeal += count.people;
      continue;
    }
    byDeal.set(count.dealId, [...(byDeal.get(count.dealId) ?? []), count]);
  }

  const rows: (DealAttendance & { active: boolean })[] = deals.map((deal) => {
    const own = byDeal.get(deal.id) ?? [];
    const perYear = years.map((year) => {
      const inYear = own.filter((c) => yearOf.get(c.meetingId) === year);
      return {
        year,
        meetings: meetingsPerYear.get(year) ?? 0,
        meetingsRepresented: new Set(inYear.map((c) => c.meetingId)).size,
        people: inYear.reduce((sum, c) => sum + c.people, 0),
      };
    });
    return {
      dealId: deal.id,
      name: deal.name,
      kind: deal.kind,
      phase: deal.phase,
      active: deal.active,
      meetingsRepresented: new Set(own.map((c) => c.meetingId)).size,
      people: own.reduce((sum, c) => sum + c.people, 0),
      perYear,
    };
  });
  rows.sort((a, b) => b.meetingsRepresented - a.meetingsRepresented || a.name.localeCompare(b.name, 'nl'));

  const total = meetings.length;
  const active = rows.filter((r) => r.active);
  return {
    meetings: meetings
      .map((m) => ({ id: m.id, title: m.title, startsAt: m.startsAt, year: yearOf.get(m.id)! }))
      .sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime()),
    deals: rows.map(({ active: _active, ...row }) => row),
    withoutDeal,
    neverRepresented: active
      .filter((r) => r.meetingsRepresented === 0)
      .map((r) => ({ dealId: r.dealId, name: r.name }))
      .sort((a, b) => a.name.localeCompare(b.name, 'nl')),
    rarelyRepresented: active
      .filter((r) => r.meetingsRepresented > 0 && total > 0 && r.meetingsRepresented / total <= rarelyAtMost)
      .map((r) => ({ dealId: r.dealId, name: r.name, meetingsRepresented: r.meetingsRepresented }))
      .sort((a, b) => a.meetingsRepresented - b.meetingsRepresented || a.name.localeCompare(b.name, 'nl')),
  };
}
