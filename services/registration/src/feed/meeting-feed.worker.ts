import { newEventId, type ServiceRuntime, type ServiceWorker, systemClock } from '@citydeals/service-kit';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { CORRECTION_WINDOW_MS, type FeedPolicy } from './meeting-feed.rules.ts';
import { announceMeetings } from './meeting-feed.service.ts';

export function feedPolicy(config: Config): FeedPolicy {
  return { throttleMs: config.MEETING_FEED_THROTTLE_MS, correctionWindowMs: CORRECTION_WINDOW_MS };
}

/**
 * Runs the announcer every MEETING_FEED_INTERVAL_MS (0: not on this replica). Polling suits it: meetings are
 * few, a round reads a handful of rows, and seat levels and attendance fall due by the clock anyway.
 */
export function meetingFeedWorkers(runtime: ServiceRuntime<Database>, config: Config): ServiceWorker[] {
  const intervalMs = config.MEETING_FEED_INTERVAL_MS;
  if (intervalMs === 0) return [];
  const ctx = {
    db: runtime.db,
    clock: systemClock,
    newId: newEventId,
    publicBaseUrl: config.PUBLIC_BASE_URL.replace(/\/+$/, ''),
  };
  const policy = feedPolicy(config);
  const logger = runtime.logger.child({ feature: 'meeting-feed' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const round = () => {
    running = announceMeetings(ctx, policy).then(
      (written) => {
        if (written > 0) logger.debug({ written }, 'meeting feed: events written');
      },
      (err) => logger.error({ err }, 'meeting feed round failed; retrying next interval'),
    );
    void running.then(() => {
      if (!stopped) timer = setTimeout(round, intervalMs);
    });
  };
  return [
    {
      name: 'meeting-feed',
      start: () => {
        timer = setTimeout(round, 0);
      },
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
      },
    },
  ];
}
