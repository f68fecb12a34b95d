import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { chooseSessions } from '../sessions/session-places.ts';
import { type SeatDecisionRow, type SeatRequest, takeSeats } from './seat.repository.ts';
import { takeSeatBatch } from './seat.rules.ts';

interface Waiting extends SeatRequest {
  resolve(decision: SeatDecisionRow | undefined): void;
  reject(err: unknown): void;
}

/** Large enough to drain a burst in a few commits, small enough to keep one statement's parameters modest. */
const MAX_BATCH = 64;

/**
 * Group commit for seat decisions, one per service (on its ServiceContext). One registering statement runs at a time per process; a registration
 * that finds none running goes at once (after the turn of the event loop, so the requests read with it come
 * along), and those that arrive while one runs wait for it and go together in the next, into one meeting or
 * many, sharing its commit. Under load that turns many small commits into a few large ones; when idle, a
 * registration waits for nobody. Order and exactness come from the statement (takeSeats),
 * not from this queue: replicas each have their own queue and still serialise on the meeting row locks.
 * The price: while a statement waits for a meeting row that another transaction holds (a cancellation or a
 * capacity change promoting from the waitlist, a few milliseconds), registrations into other meetings wait
 * with it; with a queue per meeting they did not, but every registration of a spread load paid a commit.
 */
export class SeatQueue {
  readonly #db: Kysely<Database>;
  #waiting: Waiting[] = [];
  #busy = false;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** The decision, or undefined when the meeting is no longer `meetingVersion` (nothing was written). */
  decide(request: SeatRequest): Promise<SeatDecisionRow | undefined> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ ...request, resolve, reject });
      if (this.#busy) return;
      this.#busy = true;
      setImmediate(() => void this.#run());
    });
  }

  async #run(): Promise<void> {
    while (this.#waiting.length > 0) {
      const { batch, rest } = takeSeatBatch(this.#waiting, MAX_BATCH);
      this.#waiting = rest;
      await this.#execute(batch);
    }
    this.#busy = false;
  }

  /** Settles every entry of the batch; never throws. */
  async #execute(batch: Waiting[]): Promise<void> {
    try {
      const decisions = batch.some((entry) => entry.sessionIds?.length)
        ? await this.#db.transaction().execute((trx) => takeSeatsAndSessions(trx, batch))
        : await takeSeats(this.#db, batch);
      const again: Waiting[] = [];
      for (const [i, entry] of batch.entries()) {
        const decision = decisions[i];
        // Its events covered a decision the statement did not make (counters read before others took the
        // last seats, say): it goes first in the next statement, with an event for either decision.
        if (!decision && entry.everyEvent) {
          again.push({ ...entry, events: entry.everyEvent(), expected: undefined, everyEvent: undefined });
        } else {
          entry.resolve(decision);
        }
      }
      this.#waiting.unshift(...again);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // One registration spoiled the statement for all (an address registered twice, most likely; or a
      // deadlock with another replica): each goes again on its own, so only that one sees the error.
      for (const entry of batch) await this.#execute([entry]);
    }
  }
}

/**
 * A batch in which some chose sessions: the seat statement and the session choices commit together, so a
 * registration never stands without the sessions it chose. The statement's meeting row locks are held to
 * the commit, so each choice is decided on exact session counters, in arrival order.
 */
async function takeSeatsAndSessions(
  trx: Transaction<Database>,
  batch: readonly SeatRequest[],
): Promise<(SeatDecisionRow | undefined)[]> {
  const decisions = await takeSeats(trx, batch);
  await chooseSessions(
    trx,
    batch.flatMap((entry, i) => {
      const decision = decisions[i];
      if (!decision || !entry.sessionIds?.length) return [];
      return [
        {
          id: entry.row.id,
          meetingId: entry.meetingId,
          status: decision.status,
          sessionIds: entry.sessionIds,
        },
      ];
    }),
    batch[0]!.row.created_at,
  );
  return decisions;
}
