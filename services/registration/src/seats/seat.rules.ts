/**
 * Pure rules about seats: who gets one, how the counters follow a status change, who is promoted, which
 * registrations share a statement. The callers hold the meeting row lock while they apply them, so the
 * counts they pass in are exact.
 *
 * `decideSeat` is the description of the rule and the oracle of its tests, not the code that decides: the rule
 * that decides is SQL, in `takeSeats` (seat.repository.ts), applied on the counters of the meeting row it locks,
 * so that deciding and writing are one statement; test/seats/seats.test.ts checks that both agree. On the
 * counters last read, `decideSeat` only predicts the decision, so that a registration builds the event of
 * that one (the statement refuses a registration without the event of its decision).
 */
import type { RegistrationStatusColumn } from '../db/database.ts';

/** Statuses that occupy a seat; a no-show keeps it, the meeting is over. */
export const SEAT_HOLDING: readonly RegistrationStatusColumn[] = ['confirmed', 'checked_in', 'no_show'];

export type SeatDecision =
  | { status: 'confirmed'; position: null }
  | { status: 'waitlisted'; position: number };

/**
 * A newcomer gets a seat only when one is free and nobody is waiting for one: the waitlist is served first,
 * so nobody jumps the queue even if a seat is momentarily free. A seat held by an open offer is not free,
 * and whoever holds an offer waits for that seat, not for another (offers/).
 */
export function decideSeat(input: {
  capacity: number;
  seatsTaken: number;
  waitlistLength: number;
  /** Seats held by open offers, each for one of those waiting; 0 where seats are promoted at once. */
  seatsOffered?: number;
}): SeatDecision {
  const offered = input.seatsOffered ?? 0;
  if (input.waitlistLength === offered && input.seatsTaken + offered < input.capacity) {
    return { status: 'confirmed', position: null };
  }
  return { status: 'waitlisted', position: input.waitlistLength + 1 };
}

/** The meeting's counters of seats taken and people waiting; exact under the meeting lock. */
export interface SeatCounters {
  seatsTaken: number;
  waitlistLength: number;
}

const seatHolding = (status: RegistrationStatusColumn | null) =>
  status !== null && SEAT_HOLDING.includes(status);

/** How a registration moving from `from` to `to` (null: not there) changes the meeting's counters. */
export function counterDelta(
  from: RegistrationStatusColumn | null,
  to: RegistrationStatusColumn | null,
): SeatCounters {
  return {
    seatsTaken: Number(seatHolding(to)) - Number(seatHolding(from)),
    waitlistLength: Number(to === 'waitlisted') - Number(from === 'waitlisted'),
  };
}

export interface Waiting {
  id: string;
  /** Arrival order; lower waited longer. */
  seq: number;
}

/**
 * The waiting registrations to promote, longest-waiting first, each with its position before promotion.
 * Lowering capacity below the seats taken promotes nobody and unseats nobody.
 */
export function selectPromotions<W extends Waiting>(input: {
  capacity: number;
  seatsTaken: number;
  waitlist: readonly W[];
}): { registration: W; previousPosition: number }[] {
  const free = Math.max(0, input.capacity - input.seatsTaken);
  return [...input.waitlist]
    .sort((a, b) => a.seq - b.seq)
    .slice(0, free)
    .map((registration, i) => ({ registration, previousPosition: i + 1 }));
}

/**
 * The next statement's registrations: the longest waiting first, at most `max`, and each meeting with one
 * version only (the statement checks one version per meeting), so a registration read on another version
 * of a meeting already in the batch waits for the next one. Keeps arrival order within each meeting.
 */
export function takeSeatBatch<T extends { meetingId: string; meetingVersion: number }>(
  waiting: readonly T[],
  max: number,
): { batch: T[]; rest: T[] } {
  const versions = new Map<string, number>();
  const batch: T[] = [];
  const rest: T[] = [];
  for (const entry of waiting) {
    const version = versions.get(entry.meetingId);
    if (batch.length < max && (version === undefined || version === entry.meetingVersion)) {
      versions.set(entry.meetingId, entry.meetingVersion);
      batch.push(entry);
    } else {
      rest.push(entry);
    }
  }
  return { batch, rest };
}
