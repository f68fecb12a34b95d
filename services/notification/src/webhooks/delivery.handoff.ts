import type { ClaimedMessage, DirectLease } from './delivery.repository.ts';

/** The delivery worker's side of the hand-off. */
export interface DirectDeliveryTarget {
  /** Messages the worker takes now without making them wait long for a slot. */
  freeSlots(): number;
  leaseMs: number;
  /** Sends messages leased to `leaseToken` (committed), recording each attempt as a claimed one's. */
  deliverLeased(messages: readonly ClaimedMessage[], leaseToken: string): void;
}

/**
 * Hands the messages the consumer queues to this process's delivery worker in the same step: the consumer
 * inserts as many as the worker has room for already leased to it, and once its transaction commits the
 * worker sends them, instead of NOTIFY, wake-up and a claiming statement per handful of messages. One per
 * service instance (the context's), shared by its consumer and its worker; with no worker attached (an
 * API-only replica, or while stopping) every message is queued for the claim as before.
 *
 * Crash safety is the claim's: the rows are committed before anything is sent, and a lease that is never
 * settled runs out, so another worker sends the message again, with the same `webhook-id`.
 */
export class DirectDeliveries {
  #target: DirectDeliveryTarget | undefined;

  /** Called by the worker on start; returns the detach it calls on stop. */
  attach(target: DirectDeliveryTarget): () => void {
    this.#target = target;
    return () => {
      if (this.#target === target) this.#target = undefined;
    };
  }

  /** The lease the consumer may insert with now, or none. */
  offer(newId: () => string): DirectLease | undefined {
    const target = this.#target;
    const limit = target?.freeSlots() ?? 0;
    if (!target || limit <= 0) return undefined;
    return { limit, leaseToken: newId(), leaseMs: target.leaseMs };
  }

  /**
   * After the commit that inserted them: to the worker. If it has detached meanwhile, the messages wait for
   * their lease to run out and are claimed then.
   */
  deliver(messages: readonly ClaimedMessage[], leaseToken: string): void {
    if (messages.length > 0) this.#target?.deliverLeased(messages, leaseToken);
  }
}
