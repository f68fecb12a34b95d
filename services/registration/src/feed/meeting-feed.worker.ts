import { type FeatureParts, intervalWorker, type ServiceWorker } from '@citydeals/service-kit';
import type { Config } from '../config.ts';
import type { ServiceContext } from '../context.ts';
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
export function meetingFeedWorkers({
  ctx,
  config,
  runtime,
}: FeatureParts<Database, ServiceContext, Config>): ServiceWorker[] {
  if (config.MEETING_FEED_INTERVAL_MS === 0) return [];
  const policy = feedPolicy(config);
  const logger = runtime.logger.child({ feature: 'meeting-feed' });
  return [
    intervalWorker({
      name: 'meeting feed',
      intervalMs: config.MEETING_FEED_INTERVAL_MS,
      logger,
      run: async () => {
        const written = await announceMeetings(ctx, policy);
        if (written > 0) logger.debug({ written }, 'meeting feed: events written');
      },
    }),
  ];
}
