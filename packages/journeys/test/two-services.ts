/**
 * Registration and notification as processes, started from their source as `npm start` does, each on a
 * database of its own and one event namespace on the shared Postgres and NATS, with notification sending to
 * a real SMTP server that parses every mail it receives. For journeys that go from an HTTP request to the
 * mail and back.
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
}

/** `env`: settings of a journey on top of the defaults, per service. */
export async function startTwoServices(
  env: { registration?: Record<string, string>; notification?: Record<string, string> } = {},
) {
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
  const registrationDb: TestDatabase = await createQuickTestDatabase();
  const notificationDb: TestDatabase = await createQuickTestDatabase();
  const registration = await startProcess('registration', {
    ...testServiceEnv(registrationDb, namespace),
    PUBLIC_BASE_URL: 'http://registration.test',
    ...env.registration,
  });
  const notification = await startProcess('notification', {
    ...testServiceEnv(notificationDb, namespace),
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    MAIL_POLL_MS: '50',
    PUBLIC_BASE_URL: 'http://notification.test',
    ...env.notification,
  });

  async function call(
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
  }

  return {
    namespace,
    registration,
    notification,
    registrationDb,
    notificationDb,
    mails,
    call,
    /** Waits for the mail of a kind to an address and returns it. */
    async mailTo(address: string, kind: string): Promise<Mail> {
      const found = await eventually(() => mails.find((m) => m.to === address && m.kind === kind), 30_000);
      if (!found) throw new Error(`no ${kind} mail to ${address}; received: ${mails.map((m) => m.kind)}`);
      return found;
    },
    async close() {
      await notification.stop();
      await registration.stop();
      const nc = await connect({ servers: testServers.natsUrl, name: 'journeys-cleanup' });
      await deleteNamespaceStreams(await jetstreamManager(nc), namespace).finally(() => nc.close());
      await Promise.all([registrationDb.drop(), notificationDb.drop()]);
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}
