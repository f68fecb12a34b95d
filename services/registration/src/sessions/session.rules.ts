/**
 * Pure rules about session places: who gets one, who is promoted, which choices may stand together and
 * where a session may lie. The callers hold the meeting row lock while they apply them (every change of a
 * meeting's sessions or of the places in them takes it first), so the counters they pass in are exact.
 *
 * `decidePlace` is the description of the place rule and the oracle of its tests, as `decideSeat` is for
 * seats: the rule that runs is SQL, in `recordChoices` (session.repository.ts), so that a burst's choices are
 * decided and written in one statement; test/sessions/session-places.test.ts checks that both agree.
 */
import type { SessionChoiceStatusColumn } from '../db/database.ts';

export type PlaceDecision = { status: 'placed'; position: null } | { status: 'waitlisted'; position: number };

/**
 * The meeting's seat rule, for one session: a place only when one is free and nobody waits for one, so
 * nobody jumps the queue even while a place is momentarily free.
 */
export function decidePlace(input: {
  capacity: number;
  placesTaken: number;
  waitlistLength: number;
}): PlaceDecision {
  if (input.waitlistLength === 0 && input.placesTaken < input.capacity) {
    return { status: 'placed', position: null };
  }
  return { status: 'waitlisted', position: input.waitlistLength + 1 };
}

/** What a registration's place in the meeting means for the sessions it chose. */
export function choiceStatusFor(meetingStatus: string): 'decide' | 'pending' | 'none' {
  if (meetingStatus === 'confirmed' || meetingStatus === 'checked_in' || meetingStatus === 'no_show') {
    return 'decide';
  }
  return meetingStatus === 'waitlisted' ? 'pending' : 'none';
}

/** How a choice moving from `from` to `to` (null: not there) changes its session's counters. */
export function placeDelta(
  from: SessionChoiceStatusColumn | null,
  to: SessionChoiceStatusColumn | null,
): { placesTaken: number; waitlistLength: number } {
  return {
    placesTaken: Number(to === 'placed') - Number(from === 'placed'),
    waitlistLength: Number(to === 'waitlisted') - Number(from === 'waitlisted'),
  };
}

/**
 * The waiting choices to promote, longest-waiting first (lowest `seq`), each with its position before.
 * Lowering capacity below the places taken promotes nobody and unplaces nobody.
 */
export function selectPlacePromotions<W extends { seq: string | number }>(input: {
  capacity: number;
  placesTaken: number;
  waitlist: readonly W[];
}): { choice: W; previousPosition: number }[] {
  const free = Math.max(0, input.capacity - input.placesTaken);
  return [...input.waitlist]
    .sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0))
    .slice(0, free)
    .map((choice, i) => ({ choice, previousPosition: i + 1 }));
}

export interface SessionTimes {
  id: string;
  startsAt: Date;
  endsAt: Date;
}

/** Two sessions overlap when each starts before the other ends; back to back is no overlap. */
export function overlaps(a: SessionTimes, b: SessionTimes): boolean {
  return a.startsAt.getTime() < b.endsAt.getTime() && b.startsAt.getTime() < a.endsAt.getTime();
}

/** What is wrong with a set of chosen sessions: ids chosen twice, unknown ones, and pairs at the same time. */
export function validateChoice(
  chosen: readonly string[],
  sessions: readonly SessionTimes[],
): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  const byId = new Map(sessions.map((s) => [s.id, s]));
  const seen = new Set<string>();
  for (const [i, id] of chosen.entries()) {
    if (seen.has(id)) errors.push({ field: `body.sessionIds.${i}`, message: 'is chosen twice' });
    else if (!byId.has(id))
      errors.push({ field: `body.sessionIds.${i}`, message: 'is not a session of this meeting' });
    seen.add(id);
  }
  const known = [...seen].flatMap((id) => byId.get(id) ?? []);
  for (const [i, a] of known.entries()) {
    for (const b of known.slice(i + 1)) {
      if (overlaps(a, b)) {
        errors.push({
          field: 'body.sessionIds',
          message: `sessions ${a.id} and ${b.id} are at the same time; choose one of them`,
        });
      }
    }
  }
  return errors;
}

/** A session lies within its meeting and ends after it starts. */
export function validateSessionTimes(
  session: { startsAt: Date; endsAt: Date },
  meeting: { startsAt: Date; endsAt: Date },
): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  if (session.startsAt.getTime() < meeting.startsAt.getTime()) {
    errors.push({ field: 'body.startsAt', message: 'is before the meeting starts' });
  }
  if (session.endsAt.getTime() > meeting.endsAt.getTime()) {
    errors.push({ field: 'body.endsAt', message: 'is after the meeting ends' });
  }
  if (session.endsAt.getTime() <= session.startsAt.getTime()) {
    errors.push({ field: 'body.endsAt', message: 'must be after startsAt' });
  }
  return errors;
}
