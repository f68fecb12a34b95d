import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connectNats, namespace } from '@citydeals/messaging';
import {
  createQuickTestDatabase,
  deleteNamespaceStreams,
  eventually,
  testServiceEnv,
  uniqueName,
} from '@citydeals/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import t from 'tap';
import { attendeeSnapshot, eventFeed, meetingSnapshot, startSmtpServer } from './email.fixture.ts';

/** Sender loops of the service under test and the mails each leases at once. */
const SENDERS = 4;
const BATCH = 10;
/** Short, so the mails the killed process had leased go out again within the test. */
const LEASE_MS = 1500;

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const day = 86_400_000;
const attendees = 200;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test(
  'kill -9 while 200 attendees have 2 reminders due: after restart each got exactly one per offset',
  async (t) => {
    // Each accepted message is held a little, so the kill lands while mails are in flight.
    const smtp = await startSmtpServer({ acceptDelayMs: 5, parse: false });
    const database = await createQuickTestDatabase();
    const ns = uniqueName('t');
    const nc = await connectNats({ url: 'nats://127.0.0.1:4222', name: 'crash-test' });
    const pool = new pg.Pool({
      connectionString: database.url,
      max: 2,
      options: '-c search_path=notification',
    });
    const children = new Set<ChildProcess>();
    t.teardown(async () => {
      for (const child of children) child.kill('SIGKILL');
      await pool.end();
      await deleteNamespaceStreams(await jetstreamManager(nc), ns);
      await nc.close();
      await database.drop();
      await smtp.close();
    });

    const port = await freePort();
    const baseEnv = {
      ...process.env,
      ...testServiceEnv(database, ns),
      PORT: String(port),
      SMTP_URL: smtp.url,
      MAIL_POLL_MS: '50',
      REMINDER_POLL_MS: '50',
      MAIL_BATCH_SIZE: String(BATCH),
      MAIL_SENDERS: String(SENDERS),
      MAIL_LEASE_MS: String(LEASE_MS),
    };
    const start = async (extra: Record<string, string>) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'services/notification/src/server.ts'], {
        cwd: repoRoot,
        env: { ...baseEnv, ...extra },
        stdio: 'ignore',
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      const ready = await eventually(
        () =>
          fetch(`http://127.0.0.1:${port}/health/ready`)
            .then((r) => r.ok)
            .catch(() => false),
        30_000,
        100,
      );
      if (!ready) throw new Error('service did not become ready');
      return child;
    };
    const kill9 = async (child: ChildProcess) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };
    const count = async (query: string) => Number((await pool.query(query)).rows[0].n);

    // Run 1, on real time: the meeting is ten days away, nothing is due yet.
    let child = await start({});
    const feed = eventFeed(jetstream(nc), namespace(ns));
    const meeting = meetingSnapshot({
      startsAt: new Date(Date.now() + 10 * day).toISOString(),
      endsAt: new Date(Date.now() + 10 * day + 3 * 3600_000).toISOString(),
    });
    await feed.scheduled(meeting);
    const people = Array.from({ length: attendees }, () => attendeeSnapshot(meeting.meetingId));
    const fed = Date.now();
    await Promise.all(people.map((p) => feed.registered(p)));
    t.ok(
      await eventually(
        async () =>
          (await count(`select count(*) n from reminder where status = 'pending'`)) === 2 * attendees,
        60_000,
      ),
      '400 reminders pending',
    );
    t.ok(await eventually(() => smtp.received.length === attendees, 60_000), '200 confirmations received');
    t.comment(`200 registrations to 200 confirmations at the SMTP server: ${Date.now() - fed} ms`);
    await kill9(child);

    // Run 2, with the clock half a day before the meeting: both offsets are due for everyone. Kill it mid-way.
    const shifted = {
      REMINDER_CLOCK_SHIFT_MS: String(Date.parse(meeting.startsAt) - 12 * 3600_000 - Date.now()),
    };
    const reminders = () => smtp.received.filter((m) => m.kind === 'reminder');
    const dispatched = Date.now();
    child = await start(shifted);
    t.ok(await eventually(() => reminders().length >= 60, 60_000, 5));
    await kill9(child);
    const atKill = reminders().length;
    t.ok(atKill < 2 * attendees, `killed mid-way: ${atKill} of ${2 * attendees} reminders had arrived`);

    // Run 3: the rest goes out.
    child = await start(shifted);
    t.ok(
      await eventually(
        async () =>
          (await count(`select count(*) n from email where status = 'queued'`)) === 0 &&
          (await count(`select count(*) n from reminder where status = 'pending'`)) === 0,
        60_000,
      ),
      'nothing left to do',
    );
    t.comment(`400 due reminders sent across a kill -9 and restart: ${Date.now() - dispatched} ms`);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;

    const byAttendeeOffset = new Map<string, Set<string>>();
    for (const mail of reminders()) {
      const key = `${mail.to} ${mail.parsed.subject}`;
      byAttendeeOffset.set(key, (byAttendeeOffset.get(key) ?? new Set()).add(mail.messageId));
    }
    t.equal(byAttendeeOffset.size, 2 * attendees, 'every attendee got a reminder for each offset');
    t.ok(
      [...byAttendeeOffset.values()].every((ids) => ids.size === 1),
      'exactly one reminder (one Message-ID) per attendee and offset',
    );
    const repeats = reminders().length - 2 * attendees;
    t.comment(`deliveries repeated after the crash (same Message-ID, recognisable as one mail): ${repeats}`);
    t.ok(
      repeats <= SENDERS * BATCH,
      `at most the leased mails (${SENDERS} loops × ${BATCH}) were in flight at the kill and repeated`,
    );
    t.equal(await count(`select count(*) n from reminder where status = 'queued'`), 2 * attendees);
    t.equal(
      await count(`select count(*) n from email where kind = 'reminder' and status = 'sent'`),
      2 * attendees,
    );
  },
);
