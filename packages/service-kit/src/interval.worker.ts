import type { Logger } from 'pino';
import type { ServiceWorker } from './feature.ts';

/**
 * A worker that runs `run` every `intervalMs` (a sweep, a retention pass); a failed run is logged and the
 * next interval tries again. `stop()` waits for a run in progress.
 */
export function intervalWorker(options: {
  name: string;
  intervalMs: number;
  logger: Logger;
  run: () => Promise<unknown>;
}): ServiceWorker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return {
    name: options.name,
    start() {
      timer = setInterval(() => {
        running = running.then(() =>
          options
            .run()
            .catch((err) => options.logger.error({ err }, `${options.name} failed; retrying next interval`)),
        );
      }, options.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
