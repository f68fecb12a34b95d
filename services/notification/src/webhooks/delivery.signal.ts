import { QueueSignal } from '@citydeals/work-queue';

/**
 * Wakes the delivery workers when messages were queued: this process's after the consumer's commit, every
 * replica's through a NOTIFY at most every 25 ms. Shared by the consumer, the replay routes and the workers.
 */
export const deliverySignal = new QueueSignal({ channelSuffix: '.webhook_delivery', throttleMs: 25 });
