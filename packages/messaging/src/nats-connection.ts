import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface NatsOptions {
  url: string;
  user?: string | undefined;
  password?: string | undefined;
  /** Shown in the server's connection list (`nats server report connections`). */
  name: string;
}

/** Connects and keeps reconnecting for ever: a broker restart must never take a service down. */
export function connectNats(options: NatsOptions): Promise<NatsConnection> {
  return connect({
    servers: options.url.split(','),
    name: options.name,
    ...(options.user ? { user: options.user, pass: options.password ?? '' } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: false,
    // Otherwise every request and publish builds an Error up front to keep its caller's stack for a later
    // timeout: a large share of the relay's CPU in profiles. Errors keep their own message and subject.
    noAsyncTraces: true,
  });
}

export type { NatsConnection };
