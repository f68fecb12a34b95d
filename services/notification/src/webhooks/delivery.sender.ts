import { Agent, type Dispatcher } from 'undici';
import { guardedLookup, type ResolveAll, SsrfRefusedError, systemResolveAll } from './ssrf.guard.ts';
import { type AllowList, checkTargetUrl } from './ssrf.rules.ts';

/** Kept of a response body in the delivery log; enough to see an error page's gist. */
export const RESPONSE_BODY_LIMIT = 1024;

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SendResult {
  status: number | null;
  retryAfter: string | null;
  /** First RESPONSE_BODY_LIMIT bytes of the answer. */
  body: string | null;
  error: string | null;
  durationMs: number;
}

export type Send = (request: SendRequest) => Promise<SendResult>;

export interface SenderOptions {
  allow: AllowList;
  timeoutMs: number;
  resolveAll?: ResolveAll;
  /** Connections kept open per origin; webhooks to one receiver come in bursts. */
  maxSockets?: number;
}

/**
 * POSTs one webhook with an undici Agent (keep-alive, one pool per origin), which never follows redirects
 * (a 3xx is just a status). Every connection goes through the guarded lookup (`connect.lookup`, handed to
 * `net.connect`/`tls.connect`), so the address connected to is the address checked; IP-literal hosts, which
 * skip DNS, are checked here. The response is read through undici's dispatch handler rather than a stream:
 * a webhook answer is a status, a header or two and at most RESPONSE_BODY_LIMIT bytes worth keeping.
 */
export function createSender(options: SenderOptions): { send: Send; close(): void } {
  const lookup = guardedLookup(options.allow, options.resolveAll ?? systemResolveAll);
  const agent = new Agent({
    connections: options.maxSockets ?? 32,
    connect: { lookup, timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });

  const send: Send = (request) => {
    const started = performance.now();
    const verdict = checkTargetUrl(request.url, options.allow);
    if (!verdict.allowed) {
      return Promise.resolve(
        failure(`refused: ${request.url} ${verdict.reason}`, Math.round(performance.now() - started)),
      );
    }
    const url = verdict.url;
    return new Promise<SendResult>((resolve) => {
      agent.dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers: {
            // Structured mode of the CloudEvents HTTP binding: the body is the whole event, so a CloudEvents
            // SDK reads it as one, and the Standard Webhooks signature covers all of it.
            'content-type': 'application/cloudevents+json; charset=utf-8',
            'user-agent': 'citydeals-notification-webhooks/1',
            ...request.headers,
          },
          body: request.body,
        },
        new AttemptHandler(started, options.timeoutMs, resolve),
      );
    });
  };

  return {
    send,
    close() {
      void agent.destroy().catch(() => {});
    },
  };
}

/**
 * One attempt's answer: the status, Retry-After and the first RESPONSE_BODY_LIMIT bytes of the body (the
 * rest is read and dropped so the connection stays reusable), or the error; bounded by `timeoutMs` from the
 * start, connecting included.
 */
class AttemptHandler implements Dispatcher.DispatchHandlers {
  readonly #started: number;
  readonly #resolve: (result: SendResult) => void;
  readonly #timer: NodeJS.Timeout;
  #abort: ((err: Error) => void) | undefined;
  #timedOut: Error | undefined;
  #done = false;
  #status: number | null = null;
  #retryAfter: string | null = null;
  #chunks: Buffer[] = [];
  #kept = 0;

  constructor(started: number, timeoutMs: number, resolve: (result: SendResult) => void) {
    this.#started = started;
    this.#resolve = resolve;
    this.#timer = setTimeout(() => {
      this.#timedOut = new Error(`timed out after ${timeoutMs} ms`);
      if (this.#abort) this.#abort(this.#timedOut);
      else this.#finish(failure(this.#timedOut.message, this.#elapsed()));
    }, timeoutMs);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.#timedOut) abort(this.#timedOut);
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, headers: Buffer[] | string[] | null): boolean {
    this.#status = statusCode;
    if (headers) {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() === 'retry-after') this.#retryAfter = String(headers[i + 1]);
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#kept < RESPONSE_BODY_LIMIT) {
      const part = chunk.subarray(0, RESPONSE_BODY_LIMIT - this.#kept);
      this.#chunks.push(part);
      this.#kept += part.length;
    }
    return true;
  }

  onComplete(): void {
    this.#finish({
      status: this.#status,
      retryAfter: this.#retryAfter,
      body: this.#kept === 0 ? '' : Buffer.concat(this.#chunks).toString('utf8'),
      error: null,
      durationMs: this.#elapsed(),
    });
  }

  onError(err: Error & { code?: string }): void {
    const message =
      err === this.#timedOut
        ? err.message
        : err instanceof SsrfRefusedError
          ? `refused: ${err.message}`
          : describe(err);
    this.#finish(failure(message, this.#elapsed()));
  }

  #elapsed(): number {
    return Math.round(performance.now() - this.#started);
  }

  #finish(result: SendResult): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#resolve(result);
  }
}

function failure(error: string, durationMs: number): SendResult {
  return { status: null, retryAfter: null, body: null, error: error.slice(0, 1000), durationMs };
}

function describe(err: Error & { code?: string }): string {
  return err.code ? `${err.code}: ${err.message}` : err.message;
}
