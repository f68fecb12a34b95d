export type AdmissionDecision = { ok: true; overCapacity: boolean } | { ok: false; reason: string };

/**
 * The office may seat someone itself: on a free seat when nobody waits (the waitlist is served first, as for
 * the public), or, when asked, above capacity — speakers and guests have a seat whatever the count.
 */
export function decideAdmission(input: {
  status: 'draft' | 'published' | 'cancelled';
  capacity: number;
  seatsTaken: number;
  waitlistLength: number;
  overCapacity: boolean;
}): AdmissionDecision {
  if (input.status === 'cancelled') return { ok: false, reason: 'the meeting is cancelled' };
  const free = input.waitlistLength === 0 && input.seatsTaken < input.capacity;
  if (free) return { ok: true, overCapacity: false };
  if (input.overCapacity) return { ok: true, overCapacity: true };
  return {
    ok: false,
    reason: 'no free seat (or people are waiting); add them above capacity if they must have a seat',
  };
}
