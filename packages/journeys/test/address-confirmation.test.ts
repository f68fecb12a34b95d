/**
 * The confirmation of the address before a seat is held, from the HTTP request to the mail as an SMTP
 * server receives it: registration and notification run as processes on the shared Postgres and NATS, and
 * the events between them are the ones registration really emits. The person follows the link in the
 * parsed mail; only then is a seat decided, and the mail that says so carries a working manage link.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  adminHeaders,
  createTestDatabase,
  deleteNamespaceStreams,
  eventually,
  freePort,
  testServers,
  testServiceEnv,
  uniqueName,
} from '@citydeals/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import t from 'tap';

interface Mail {
  to: string;
  kind: string;
  parsed: ParsedMail;
}

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

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A service as its own process, started from its source as `npm start` does; ready once it says so. */
async function startProcess(dir: string, env: Record<string, string>) {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `services/${dir}/src/server.ts`], {
    cwd: repoRoot,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (c: Buffer) => {
    output = (output + c.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const ready = await eventually(async () => {
    if (child.exitCode !== null) return true;
    return (await fetch(`${url}/health/ready`).catch(() => null))?.status === 200;
  }, 60_000);
  if (!ready || child.exitCode !== null) throw new Error(`${dir} did not start: ${output}`);
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const namespace = uniqueName('t');
const registrationDb = await createTestDatabase();
const notificationDb = await createTestDatabase();
const registration = await startProcess('registration', {
  ...testServiceEnv(registrationDb, namespace),
  PUBLIC_BASE_URL: 'http://registration.test',
});
const notification = await startProcess('notification', {
  ...testServiceEnv(notificationDb, namespace),
  SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
  MAIL_POLL_MS: '50',
  PUBLIC_BASE_URL: 'http://notification.test',
});
t.teardown(async () => {
  await notification.stop();
  await registration.stop();
  const nc = await connect({ servers: testServers.natsUrl, name: 'journeys-cleanup' });
  await deleteNamespaceStreams(await jetstreamManager(nc), namespace).finally(() => nc.close());
  await Promise.all([registrationDb.drop(), notificationDb.drop()]);
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

async function call(method: 'GET' | 'POST', path: string, payload?: object, headers?: object) {
  const res = await fetch(`${registration.url}${path}`, {
    method,
    headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
    body: payload ? JSON.stringify(payload) : null,
  });
  const body = await res.text();
  return { status: res.status, body, json: () => JSON.parse(body) };
}

async function mailTo(address: string, kind: string): Promise<Mail> {
  const found = await eventually(() => mails.find((m) => m.to === address && m.kind === kind), 30_000);
  if (!found) throw new Error(`no ${kind} mail to ${address}; received: ${mails.map((m) => m.kind)}`);
  return found;
}

const register = (meetingId: string, name: string, language?: 'nl' | 'en') =>
  call('POST', `/meetings/${meetingId}/registrations`, {
    name,
    email: `${name.toLowerCase()}@example.org`,
    organisation: 'Gemeente Voorbeeld',
    role: 'projectleider',
    ...(language ? { language } : {}),
  });

/** The confirmation link in a parsed mail, the same in its text and HTML parts. */
function confirmLinkOf(mail: Mail): string {
  const link = /http:\/\/registration\.test\/aanmelding\/bevestigen\/([A-Za-z0-9_-]{32})/.exec(
    mail.parsed.text ?? '',
  );
  if (!link) throw new Error(`no confirmation link in: ${mail.parsed.text}`);
  if (!String(mail.parsed.html).includes(link[0])) throw new Error('the HTML part has another link');
  return link[1]!;
}

t.test(
  'held until the address is confirmed by the mailed link; then seated, in the chosen language',
  async (t) => {
    const startsAt = new Date(Date.now() + 20 * 86_400_000);
    startsAt.setUTCSeconds(0, 0);
    const created = await call(
      'POST',
      '/admin/meetings',
      {
        title: 'Community of Practice City Deals',
        slug: `cop-confirm-${namespace.replaceAll('_', '-')}`,
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + 4 * 3_600_000).toISOString(),
        venue: { name: 'Hangar', address: 'PTT-terrein, Den Haag' },
        language: 'nl',
        capacity: 1,
        status: 'published',
        addressConfirmation: true,
      },
      adminHeaders,
    );
    t.equal(created.status, 201, created.body);
    const meeting = created.json() as { id: string };

    // Eva (English in a Dutch meeting) and Fleur (no choice: Dutch) ask; neither holds the one seat yet.
    t.equal((await register(meeting.id, 'Eva', 'en')).status, 202);
    t.equal((await register(meeting.id, 'Fleur')).status, 202);
    const evaMail = await mailTo('eva@example.org', 'address_confirmation');
    const fleurMail = await mailTo('fleur@example.org', 'address_confirmation');
    t.match(evaMail.parsed.subject, /^Please confirm your registration for Community of Practice/);
    t.match(fleurMail.parsed.subject, /^Bevestig je aanmelding voor Community of Practice/);
    t.notMatch(evaMail.parsed.text, /PTT-terrein/, 'no venue before a seat is held');
    const seats = async () =>
      (await call('GET', `/admin/meetings/${meeting.id}`, undefined, adminHeaders)).json().seats;
    t.match(await seats(), { confirmed: 0, waitlisted: 0 }, 'nothing held before confirmation');

    // Fleur confirms first and gets the seat; Eva, confirming after, the waitlist.
    const fleur = await call('POST', `/registrations/confirmations/${confirmLinkOf(fleurMail)}`);
    t.equal(fleur.status, 201, fleur.body);
    t.equal(fleur.json().status, 'confirmed');
    const eva = await call('POST', `/registrations/confirmations/${confirmLinkOf(evaMail)}`);
    t.same([eva.json().status, eva.json().position], ['waitlisted', 1]);

    const seated = await mailTo('fleur@example.org', 'registration_confirmed');
    t.ok(seated.parsed.text?.includes(fleur.json().manageUrl), 'the seat mail carries the personal link');
    const own = await call(
      'GET',
      `/registrations/manage/${fleur.json().manageUrl.slice(fleur.json().manageUrl.lastIndexOf('/') + 1)}`,
    );
    t.equal(own.json().registrationId, fleur.json().registrationId, 'and that link works');
    const waitlisted = await mailTo('eva@example.org', 'waitlisted');
    t.match(waitlisted.parsed.text, /waitlist/i, 'Eva chose English');
    t.ok(waitlisted.parsed.text?.includes(eva.json().manageUrl));

    // The link in the mail works once.
    const reused = await call('POST', `/registrations/confirmations/${confirmLinkOf(fleurMail)}`);
    t.equal(reused.status, 409);
    t.match(reused.json(), { type: /confirmation-link-used$/ });
    const page = await fetch(`${registration.url}/aanmelding/bevestigen/${confirmLinkOf(evaMail)}?lang=en`);
    t.equal(page.status, 200, 'the page behind the link opens (a button, no change)');
    t.match(await page.text(), /Confirm my registration/);
  },
);
