import { durationMs } from '@citydeals/calendar';
import type { DealPhase, LessonKind } from '@citydeals/contracts';

/** What a change says, by kind: the only kinds of change attendees hear about before a meeting. */
export type DealNewsDetail =
  | { kind: 'phase_changed'; from: DealPhase; to: DealPhase }
  | { kind: 'result'; title: string }
  | { kind: 'lesson'; lessonKind: LessonKind; text: string };

export interface DealChange {
  dealId: string;
  /** The deal's name as last announced; null when no event with the name has arrived. */
  dealName: string | null;
  occurredAt: Date;
  /** The deal's version after the change: orders changes of one deal that share a moment. */
  version: number;
  detail: DealNewsDetail;
}

export interface MeetingAt {
  id: string;
  startsAt: Date;
  status: string;
}

/** The news of one deal, its changes in the order they happened. */
export interface DealNews {
  dealId: string;
  dealName: string | null;
  /** The attendee's own deal: it comes first. */
  own: boolean;
  changes: DealChange[];
}

const newsKinds: ReadonlySet<string> = new Set<DealNewsDetail['kind']>(['phase_changed', 'result', 'lesson']);

/**
 * Only the last reminder before a meeting carries the deal news: the one with the shortest offset of the
 * meeting's offsets as they are now (an earlier reminder would tell less, and twice).
 */
export function isLastReminder(offset: string, offsets: readonly string[]): boolean {
  if (!offsets.includes(offset)) return false;
  const ms = durationMs(offset);
  return offsets.every((other) => durationMs(other) >= ms);
}

/**
 * The meeting before this one: the latest that is not cancelled and started before this one starts. A
 * cancelled meeting never took place, so the news since it would skip what happened before it.
 */
export function previousMeeting(meeting: MeetingAt, meetings: readonly MeetingAt[]): MeetingAt | null {
  let previous: MeetingAt | null = null;
  for (const candidate of meetings) {
    if (candidate.id === meeting.id || candidate.status === 'cancelled') continue;
    if (candidate.startsAt.getTime() >= meeting.startsAt.getTime()) continue;
    if (!previous || candidate.startsAt.getTime() > previous.startsAt.getTime()) previous = candidate;
  }
  return previous;
}

/**
 * What moved in the deals since the previous meeting, for one attendee: every phase change, result and
 * lesson that happened after the previous meeting started and up to now, grouped per deal, the attendee's
 * own deal first, then the deals by name. Without a previous meeting there is nothing to compare with, so no
 * news (the section is left out, as when nothing moved).
 */
export function chooseDealNews(input: {
  meeting: MeetingAt;
  meetings: readonly MeetingAt[];
  changes: readonly DealChange[];
  attendeeDealId: string | null;
  now: Date;
}): DealNews[] {
  const previous = previousMeeting(input.meeting, input.meetings);
  if (!previous) return [];
  const after = previous.startsAt.getTime();
  const until = input.now.getTime();
  const byDeal = new Map<string, DealNews>();
  const chosen = input.changes
    .filter((c) => newsKinds.has(c.detail.kind))
    .filter((c) => c.occurredAt.getTime() > after && c.occurredAt.getTime() <= until)
    .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.version - b.version);
  for (const change of chosen) {
    let news = byDeal.get(change.dealId);
    if (!news) {
      news = {
        dealId: change.dealId,
        dealName: change.dealName,
        own: change.dealId === input.attendeeDealId,
        changes: [],
      };
      byDeal.set(change.dealId, news);
    }
    news.changes.push(change);
  }
  return [...byDeal.values()].sort(
    (a, b) =>
      Number(b.own) - Number(a.own) ||
      (a.dealName ?? '').localeCompare(b.dealName ?? '', 'nl') ||
      a.dealId.localeCompare(b.dealId),
  );
}
