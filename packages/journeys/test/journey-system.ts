/**
 * The services of the journeys as processes, started from their source as `npm start` does, each on a
 * database of its own and one event namespace on the shared Postgres and NATS, with notification sending to
 * a real SMTP server that parses every mail it receives. One system serves every journey of a test file:
 * starting the processes is most of a journey's cost, so each journey brings its own meetings, deals and
 * addresses instead, and finds its mails by address.
 */
import { once } from 'node:events';
import {
  createQuickTestDatabase,
  deleteNamespaceStreams,
  eventually,
  type TestDatabase,
  testServers,
  testServiceEnv,
  uniqueName,
} from '@citydeals/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { startProcess } from './service-process.ts';

export interface Mail {
  to: string;
  kind: string;
  parsed: ParsedMail;
  receivedAt: number;
}

type Service = 'registration' | 'dealTracking' | 'notification';

export type JourneySystem = Awaited<ReturnType<typeof startJourneySystem>>;

/**
 * Registration and notification, and deal-tracking when asked for; `env`: settings on top of the defaults,
 * per service, for every journey of the file.
 */
export async function startJourneySystem(
  options: { dealTracking?: boolean; env?: Partial<Record<Service, Record<string, string>>> } = {},
) {
  const env = options.env ?? {};
  const mails: Mail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    disableReverseLookup: true,
    onData(stream, session, callback) {
      simpleParser(stream, { skipTextToHtml: true }).then(
        (parsed) => {
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address).join(','),
            kind: String(parsed.headers.get('x-citydeals-kind') ?? ''),
            parsed,
            receivedAt: Date.now(),
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  const smtpPort = (smtp.server.address() as { port: number }).port;

  const namespace = uniqueName('t');
  const [registrationDb, notificationDb, dealTrackingDb] = await Promise.all([
    createQuickTestDatabase(),
    createQuickTestDatabase(),
    options.dealTracking ? createQuickTestDatabase() : undefined,
  ]);
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop();
    const nc = await connect({ servers: testServers.natsUrl, name: 'journeys-cleanup' });
    await deleteNamespaceStreams(await jetstreamManager(nc), namespace).finally(() => nc.close());
    await Promise.all([registrationDb, notificationDb, dealTrackingDb].map((db) => db?.drop()));
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  };
  const start = async (dir: string, database: TestDatabase, settings: Record<string, string>) => {
    const started = await startProcess(dir, { ...testServiceEnv(database, namespace), ...settings });
    stops.push(started.stop);
    return started;
  };

  try {
    // Notification last: it consumes the streams of the other two.
    const registration = await start('registration', registrationDb, {
      PUBLIC_BASE_URL: 'http://registration.test',
      ...env.registration,
    });
    const dealTracking = dealTrackingDb
      ? await start('deal-tracking', dealTrackingDb, env.dealTracking ?? {})
      : undefined;
    const notification = await start('notification', notificationDb, {
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MAIL_POLL_MS: '50',
      PUBLIC_BASE_URL: 'http://notification.test',
      ...env.notification,
    });

    return {
      namespace,
      registration,
      notification,
      dealTracking,
      registrationDb,
      notificationDb,
      dealTrackingDb,
      mails,
      /** One HTTP request; the body as text, `json()` to parse it. */
      async call(
        base: string,
        method: 'GET' | 'POST' | 'PATCH' | 'PUT',
        path: string,
        payload?: object,
        headers?: Record<string, string>,
      ) {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
          body: payload ? JSON.stringify(payload) : null,
        });
        const body = await res.text();
        return { status: res.status, body, json: () => JSON.parse(body) };
      },
      /** Waits for the mail of a kind to an address and returns it. */
      async mailTo(address: string, kind: string): Promise<Mail> {
        const found = await eventually(() => mails.find((m) => m.to === address && m.kind === kind), 30_000);
        if (!found) {
          const seen = mails.filter((m) => m.to === address).map((m) => m.kind);
          throw new Error(`no ${kind} mail to ${address}; received: ${seen}`);
        }
        return found;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
