import { ThrottledWakeUp } from '../wakeup/throttled-wake-up.ts';

/** Wakes this process's delivery workers after the consumer queued messages; shared by both. */
export const deliverySignal = new ThrottledWakeUp(25);
