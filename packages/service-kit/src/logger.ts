import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Secret links (manage and unsubscribe tokens) travel in URL paths; a request log must not keep them.
 * Any path segment that looks like a random token (20+ URL-safe characters) is masked.
 */
export function redactUrl(url: string): string {
  const [path = '', query] = url.split('?', 2);
  const masked = path.replace(/\/[A-Za-z0-9_-]{20,}(?=\/|$)/g, (segment) =>
    isUuid(segment.slice(1)) || isSlug(segment.slice(1)) ? segment : '/[redacted]',
  );
  return query === undefined ? masked : `${masked}?[redacted]`;
}

const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
const isSlug = (s: string) => /^[a-z0-9]+(-[a-z0-9]+)+$/.test(s);

export function createLogger(options: { service: string; level: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({
        method: req.method,
        url: req.url === undefined ? undefined : redactUrl(req.url),
        id: req.id,
      }),
    },
    redact: { paths: ['req.headers.authorization', '*.password', '*.email', 'email'], censor: '[redacted]' },
  });
}
