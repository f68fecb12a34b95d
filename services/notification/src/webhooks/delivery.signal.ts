import { QueueChannel, QueueSignal } from '@citydeals/work-queue';

/** The delivery queue's NOTIFY channel: how a producer's transaction wakes every replica's workers. */
export const deliveryChannel = new QueueChannel('.webhook_delivery');

/**
 * Wakes the delivery workers when messages were queued: this process's after the consumer's commit, every
 * replica's through a NOTIFY at most every 25 ms. One per service context (`ServiceContext.deliveries`),
 * shared by the consumers that queue messages and the workers that deliver them.
 */
export function deliverySignal(): QueueSignal {
  return new QueueSignal({ channel: deliveryChannel, throttleMs: 25 });
}
