import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { service: string; level: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    redact: { paths: ['req.headers.authorization', '*.password', '*.email', 'email'], censor: '[redacted]' },
  });
}
