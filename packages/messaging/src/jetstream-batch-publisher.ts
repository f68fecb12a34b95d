import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';

export interface BatchItem {
  subject: string;
  payload: string;
  /** `Nats-Msg-Id`: JetStream stores a message once per id within the stream's duplicate window. */
  msgId: string;
  /** More headers (trace context), set only when there are any. */
  headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * Publishes batches to JetStream as plain NATS publishes, each with its own reply subject under one inbox
 * subscription, and matches the acknowledgements to them. `JetStreamClient.publish` makes every message a
 * request of its own: a timer, a muxed-inbox entry, its options copied, and an Error with a stack trace
 * made on every successful ack (by the request's cancel), which showed in profiles of the registration
 * service under load (figures in docs/performance.md). Here a batch costs one timer and a map entry per
 * message. The wire is the same: a JetStream publish is a NATS message
 * with a reply subject, and the stream answers it with its acknowledgement.
 */
export class JetStreamBatchPublisher {
  readonly #nc: NatsConnection;
  readonly #prefix = `${createInbox()}.`;
  #subscription: Subscription | undefined;
  #next = 0;
  readonly #waiting = new Map<string, (outcome: Error | null) => void>();

  constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  /**
   * Publishes every item at once (one connection keeps them in order) and resolves, once all are settled,
   * with one outcome per item: null when JetStream stored it (or already had its msgId), else the error,
   * a timeout after `timeoutMs` included. Never rejects.
   */
  publishAll(items: readonly BatchItem[], timeoutMs: number): Promise<(Error | null)[]> {
    if (items.length === 0) return Promise.resolve([]);
    this.#subscription ??= this.#nc.subscribe(`${this.#prefix}*`, {
      // An error here ends the subscription (a permissions violation); the publishes in flight time out.
      callback: (err, msg) => {
        if (!err) this.#acknowledged(msg);
      },
    });
    return new Promise((resolve) => {
      const outcomes: (Error | null | undefined)[] = new Array(items.length).fill(undefined);
      const tokens: string[] = [];
      let left = items.length;
      const settle = (i: number, outcome: Error | null) => {
        if (outcomes[i] !== undefined) return;
        outcomes[i] = outcome;
        left -= 1;
        if (left === 0) {
          clearTimeout(timer);
          resolve(outcomes as (Error | null)[]);
        }
      };
      const timer = setTimeout(() => {
        for (const [i, token] of tokens.entries()) {
          if (outcomes[i] !== undefined) continue;
          this.#waiting.delete(token);
          settle(i, new Error(`JetStream did not acknowledge within ${timeoutMs} ms`));
        }
      }, timeoutMs);
      for (const [i, item] of items.entries()) {
        const token = (this.#next++).toString(36);
        tokens.push(token);
        this.#waiting.set(token, (outcome) => settle(i, outcome));
        const h = headers();
        h.set('Nats-Msg-Id', item.msgId);
        if (item.headers) for (const [k, v] of Object.entries(item.headers)) h.set(k, v);
        try {
          this.#nc.publish(item.subject, item.payload, { reply: this.#prefix + token, headers: h });
        } catch (err) {
          // A closed connection or an oversized payload: this item fails, the rest go on.
          this.#waiting.delete(token);
          settle(i, err as Error);
        }
      }
    });
  }

  /** Stops listening for acknowledgements; publishes still in flight time out. */
  close(): void {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
  }

  #acknowledged(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const settle = this.#waiting.get(token);
    // Unknown: an acknowledgement that came after its publish had timed out.
    if (!settle) return;
    this.#waiting.delete(token);
    settle(ackError(msg));
  }
}

/** Null for an acknowledgement that JetStream stored the message; else what went wrong. */
export function ackError(msg: Pick<Msg, 'headers' | 'string'>): Error | null {
  // A status instead of an acknowledgement: 503 when no stream listens on the subject.
  if (msg.headers?.hasError) {
    return new Error(`JetStream did not store the message: ${msg.headers.code} ${msg.headers.description}`);
  }
  let ack: { stream?: unknown; error?: { code?: number; err_code?: number; description?: string } };
  try {
    ack = JSON.parse(msg.string());
  } catch {
    return new Error(`JetStream answered with something else than an acknowledgement: ${msg.string()}`);
  }
  if (ack.error) {
    return new Error(
      `JetStream did not store the message: ${ack.error.description ?? 'error'} (${ack.error.err_code ?? ack.error.code})`,
    );
  }
  if (typeof ack.stream !== 'string' || ack.stream === '') {
    return new Error(`JetStream answered with something else than an acknowledgement: ${msg.string()}`);
  }
  return null;
}
