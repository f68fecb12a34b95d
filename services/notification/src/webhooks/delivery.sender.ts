import http from 'node:http';
import https from 'node:https';
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
  /** Sockets kept open per origin; webhooks to one receiver come in bursts. */
  maxSockets?: number;
}

/**
 * POSTs one webhook with node:http(s), which never follows redirects (a 3xx is just a status). Every
 * connection goes through the guarded lookup; IP-literal hosts, which skip DNS, are checked here.
 */
export function createSender(options: SenderOptions): { send: Send; close(): void } {
  const lookup = guardedLookup(options.allow, options.resolveAll ?? systemResolveAll);
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 32, lookup };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  const send: Send = (request) => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const verdict = checkTargetUrl(request.url, options.allow);
    if (!verdict.allowed) {
      return Promise.resolve(failure(`refused: ${request.url} ${verdict.reason}`, elapsed()));
    }
    const url = verdict.url;
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request(url, {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        headers: {
          // Structured mode of the CloudEvents HTTP binding: the body is the whole event, so a CloudEvents
          // SDK reads it as one, and the Standard Webhooks signature covers all of it.
          'content-type': 'application/cloudevents+json; charset=utf-8',
          'content-length': String(Buffer.byteLength(request.body)),
          'user-agent': 'citydeals-notification-webhooks/1',
          ...request.headers,
        },
      });
      const timer = setTimeout(() => {
        req.destroy(new Error(`timed out after ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      req.on('error', (err) => {
        const message = err instanceof SsrfRefusedError ? `refused: ${err.message}` : describe(err);
        finish(failure(message, elapsed()));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_BODY_LIMIT) {
            chunks.push(chunk.subarray(0, RESPONSE_BODY_LIMIT - kept));
            kept += Math.min(chunk.length, RESPONSE_BODY_LIMIT - kept);
          }
        });
        res.on('error', (err) => finish(failure(describe(err), elapsed())));
        res.on('close', () => {
          if (!res.complete) finish(failure('the connection closed before the response ended', elapsed()));
        });
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          finish({
            status: res.statusCode ?? null,
            retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
            body: Buffer.concat(chunks).toString('utf8'),
            error: null,
            durationMs: elapsed(),
          });
        });
      });
      req.end(request.body);
    });
  };

  return {
    send,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function failure(error: string, durationMs: number): SendResult {
  return { status: null, retryAfter: null, body: null, error: error.slice(0, 1000), durationMs };
}

function describe(err: Error & { code?: string }): string {
  return err.code ? `${err.code}: ${err.message}` : err.message;
}
