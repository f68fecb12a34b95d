import pino, { type DestinationStream, type Logger } from 'pino';
import { redactUrl } from './secret-url.rules.ts';

export type { Logger };

interface LoggedRequest {
  method?: string;
  url?: string;
  id?: string;
  routeOptions?: { url?: string };
}

/**
 * Secret links (manage and unsubscribe tokens) travel in URL paths; a request log must not keep them, so
 * the URL is masked (see secret-url.rules.ts) and the route pattern is logged beside it to say what was hit.
 */
export function createLogger(options: {
  service: string;
  level: string;
  /** Where lines go; stdout when absent (tests capture them). */
  destination?: DestinationStream;
}): Logger {
  const settings = {
    level: options.level,
    base: { service: options.service },
    serializers: {
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: req.url === undefined ? undefined : redactUrl(req.url),
        route: req.routeOptions?.url,
        id: req.id,
      }),
    },
    redact: {
      paths: ['req.headers.authorization', '*.password', '*.email', 'email'],
      censor: '[redacted]',
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
