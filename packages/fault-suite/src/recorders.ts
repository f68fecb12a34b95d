import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { SMTPServer } from 'smtp-server';

export interface RecordedMail {
  /** Envelope recipients, comma-separated. */
  to: string;
  messageId: string;
  /** The `X-CityDeals-Kind` header: registration_confirmed, reminder, … */
  kind: string;
  /** Raw header block and body, to scan for addresses. */
  raw: string;
  at: number;
}

export interface MailRecorder {
  readonly url: string;
  readonly received: RecordedMail[];
  /** Stops answering on its port (an outage of the mail server); open sessions are cut with a 421. */
  stop(): Promise<void>;
  /** Answers again on the same port, recording into the same list. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A real SMTP server on a free loopback port that accepts and records every message. */
export async function startMailRecorder(): Promise<MailRecorder> {
  const received: RecordedMail[] = [];
  const listen = async (port: number) => {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      maxClients: 200,
      disableReverseLookup: true,
      // On stop, sessions still open are ended soon after, as a mail server going down would.
      closeTimeout: 200,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
          const header = (name: string) =>
            head
              .split('\r\n')
              .find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
              ?.slice(name.length + 1)
              .trim() ?? '';
          received.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()).join(','),
            messageId: header('Message-ID'),
            kind: header('X-CityDeals-Kind'),
            raw,
            at: Date.now(),
          });
          callback();
        });
      },
    });
    // A sender killed mid-session resets its connection; that is the scenario, not a failure of the recorder.
    server.on('error', () => {});
    server.listen(port, '127.0.0.1');
    await once(server.server, 'listening');
    return server;
  };
  let server: SMTPServer | undefined = await listen(0);
  const { port } = server.server.address() as { port: number };
  const stop = async () => {
    const closing = server;
    server = undefined;
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    stop,
    start: async () => {
      server ??= await listen(port);
    },
    close: stop,
  };
}

export interface RecordedDelivery {
  webhookId: string;
  eventId: string;
  eventType: string;
  dealId: string | null;
  version: number | null;
  body: string;
  at: number;
  /** The W3C trace context the delivery came with (tracing on). */
  traceparent: string | null;
}

export interface WebhookRecorder {
  readonly url: string;
  readonly received: RecordedDelivery[];
  close(): Promise<void>;
}

/** A webhook receiver (node:http) that answers 204 to every POST and records it. */
export async function startWebhookRecorder(): Promise<WebhookRecorder> {
  const received: RecordedDelivery[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let event: any = {};
      try {
        event = JSON.parse(body);
      } catch {
        // recorded as is
      }
      received.push({
        webhookId: String(req.headers['webhook-id'] ?? ''),
        eventId: String(event.id ?? ''),
        eventType: String(event.type ?? ''),
        dealId: event.data?.dealId ?? null,
        version: typeof event.data?.version === 'number' ? event.data.version : null,
        body,
        at: Date.now(),
        traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : null,
      });
      res.statusCode = 204;
      res.end();
    });
  });
  server.keepAliveTimeout = 1000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
}
