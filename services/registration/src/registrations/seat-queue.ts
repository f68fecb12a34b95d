import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import {
  insertRegistrationsWithSeats,
  type NewRegistration,
  type SeatDecisionRow,
  type SeatEvents,
} from './registration.repository.ts';

interface Waiting {
  meetingVersion: number;
  row: NewRegistration;
  events: SeatEvents;
  resolve(decision: SeatDecisionRow | undefined): void;
  reject(err: unknown): void;
}

/** Large enough to drain a burst in a few commits, small enough to keep one statement's parameters modest. */
const MAX_BATCH = 64;

/**
 * Group commit for seat decisions. Registrations into one meeting are decided one at a time under its row
 * lock, so each would wait for the previous commit; instead, those that arrive while a meeting's statement is
 * running wait here and go together in the next one, in arrival order, sharing its lock and its commit.
 * Order and exactness come from the statement (insertRegistrationsWithSeats), not from this queue: replicas
 * each have their own queue and still serialise on the row lock.
 */
export class SeatQueue {
  readonly #db: Kysely<Database>;
  readonly #waiting = new Map<string, Waiting[]>();

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** The decision, or undefined when the meeting is no longer `meetingVersion` (nothing was written). */
  decide(
    meetingId: string,
    meetingVersion: number,
    row: NewRegistration,
    events: SeatEvents,
  ): Promise<SeatDecisionRow | undefined> {
    return new Promise((resolve, reject) => {
      const entry = { meetingVersion, row, events, resolve, reject };
      const queue = this.#waiting.get(meetingId);
      if (queue) {
        queue.push(entry);
        return;
      }
      this.#waiting.set(meetingId, []);
      void this.#run(meetingId, [entry]);
    });
  }

  async #run(meetingId: string, batch: Waiting[]): Promise<void> {
    await this.#execute(meetingId, batch);
    this.#next(meetingId);
  }

  /** Settles every entry of the batch; never throws. */
  async #execute(meetingId: string, batch: Waiting[]): Promise<void> {
    try {
      const decisions = await insertRegistrationsWithSeats(
        this.#db,
        meetingId,
        batch[0]!.meetingVersion,
        batch,
      );
      for (const [i, entry] of batch.entries()) entry.resolve(decisions?.[i]);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // One registration spoiled the statement for all (an address registered twice, most likely): each
      // goes again on its own, so only that one sees the error.
      for (const entry of batch) await this.#execute(meetingId, [entry]);
    }
  }

  #next(meetingId: string): void {
    const queue = this.#waiting.get(meetingId);
    if (!queue || queue.length === 0) {
      this.#waiting.delete(meetingId);
      return;
    }
    const version = queue[0]!.meetingVersion;
    const batch = queue.filter((e) => e.meetingVersion === version).slice(0, MAX_BATCH);
    this.#waiting.set(
      meetingId,
      queue.filter((e) => !batch.includes(e)),
    );
    void this.#run(meetingId, batch);
  }
}
