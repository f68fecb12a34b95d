// Proves infra/nats/nats-server.conf on a real nats-server started by this test (on a free port, with its own
// store dir): each service's user publishes its own events, is refused on the others' subjects, and has
// what JetStream needs, on its own stream and as a consumer of another's.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startOwnNats } from '@citydeals/testkit';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, PermissionViolationError } from '@nats-io/transport-node';
import t from 'tap';

const CONFIG = fileURLToPath(new URL('../nats/nats-server.conf', import.meta.url));

const USERS = ['registration', 'deal_tracking', 'notification'] as const;
type User = (typeof USERS)[number];
const SAMPLE_SUBJECT: Record<User, string> = {
  registration: 'registration.meeting.scheduled',
  deal_tracking: 'deal_tracking.deal.created',
  notification: 'notification.email.sent',
};
const STREAM: Record<User, string> = {
  registration: 'REGISTRATION',
  deal_tracking: 'DEAL_TRACKING',
  notification: 'NOTIFICATION',
};

// Letters and digits only: nats-server parses an environment value as config (`a,b` would become `a`).
const password = () => `p${randomBytes(12).toString('hex')}`;
const passwords: Record<User | 'admin', string> = {
  registration: password(),
  deal_tracking: password(),
  notification: password(),
  admin: password(),
};

/** Permission violations the server reported to this connection (NATS.js v3 reports them as status events). */
function permissionErrors(nc: NatsConnection): PermissionViolationError[] {
  const errors: PermissionViolationError[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'error' && status.error instanceof PermissionViolationError)
        errors.push(status.error);
    }
  })();
  return errors;
}

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

const others = (user: User) => USERS.filter((u) => u !== user);

t.test('NATS users from infra/nats/nats-server.conf', async (t) => {
  // Its own server: command-line flags (port, store dir) override the config file's.
  const nats = await startOwnNats({
    args: ['-c', CONFIG],
    env: {
      NATS_REGISTRATION_PASSWORD: passwords.registration,
      NATS_DEAL_TRACKING_PASSWORD: passwords.deal_tracking,
      NATS_NOTIFICATION_PASSWORD: passwords.notification,
      NATS_ADMIN_PASSWORD: passwords.admin,
    },
  });
  t.teardown(() => nats.close());
  const servers = nats.url;
  const login = async (user: User | 'admin') => {
    const nc = await connect({
      servers,
      user,
      pass: passwords[user],
      name: `infra-test-${user}`,
      reconnect: false,
    });
    t.teardown(() => nc.close());
    return nc;
  };
  const admin = await login('admin');
  const users = {} as Record<User, NatsConnection>;
  const errors = {} as Record<User, PermissionViolationError[]>;
  for (const user of USERS) {
    users[user] = await login(user);
    errors[user] = permissionErrors(users[user]);
  }

  t.test('core publish: own subjects only', async (t) => {
    const received: string[] = [];
    const sub = admin.subscribe('*.>', {
      callback: (_err, msg) => {
        received.push(msg.subject);
      },
    });
    t.teardown(() => sub.unsubscribe());
    await admin.flush();

    for (const user of USERS) {
      received.length = 0;
      const nc = users[user];
      nc.publish(SAMPLE_SUBJECT[user], 'allowed');
      for (const other of others(user)) nc.publish(SAMPLE_SUBJECT[other], 'denied');
      // PING/PONG after the publishes: the server has handled them, and sent admin its copies, by then.
      await nc.flush();
      await admin.flush();
      await until(() => errors[user].length >= 2);

      t.same(received, [SAMPLE_SUBJECT[user]], `${user}: its own event arrives, the others never leave`);
      t.same(
        errors[user].map((e) => `${e.operation} ${e.subject}`).sort(),
        others(user)
          .map((o) => `publish ${SAMPLE_SUBJECT[o]}`)
          .sort(),
        `${user}: the server refused publishing on the others' subjects`,
      );
      errors[user].length = 0;
    }
  });

  t.test('core subscribe: only inboxes', async (t) => {
    for (const user of USERS) {
      const sub = users[user].subscribe(`${others(user)[0]}.>`);
      const closedWith = await Promise.race([
        sub.closed,
        new Promise((r) => setTimeout(() => r('still open'), 2000)),
      ]);
      t.type(
        closedWith,
        PermissionViolationError,
        `${user}: subscribing to another service's subjects is refused`,
      );
      t.equal((closedWith as PermissionViolationError).operation, 'subscription');
      errors[user].length = 0;
    }
  });

  t.test('JetStream: own stream, consumers on others, no publishing into others', async (t) => {
    for (const user of USERS) {
      const jsm = await jetstreamManager(users[user]);
      await jsm.streams.add({ name: STREAM[user], subjects: [`${user}.>`] });
      const ack = await jetstream(users[user]).publish(SAMPLE_SUBJECT[user], `from ${user}`, {
        msgID: `${user}-1`,
      });
      t.same(
        { stream: ack.stream, seq: ack.seq },
        { stream: STREAM[user], seq: 1 },
        `${user}: published to its stream`,
      );
    }

    for (const user of USERS) {
      // Read back as the same user, and as another service (consumers live on the publisher's stream).
      for (const reader of [user, others(user)[0]!]) {
        const jsm = await jetstreamManager(users[reader]);
        const durable = `probe_${reader}`;
        await jsm.consumers.add(STREAM[user], { durable_name: durable, ack_policy: AckPolicy.Explicit });
        const consumer = await jetstream(users[reader]).consumers.get(STREAM[user], durable);
        const msg = await consumer.next({ expires: 2000 });
        t.equal(
          msg?.subject,
          SAMPLE_SUBJECT[user],
          `${reader} reads ${STREAM[user]} through a durable consumer`,
        );
        t.equal(msg?.string(), `from ${user}`);
        t.equal(await msg?.ackAck(), true, `${reader} acks it`);
      }
    }

    for (const user of USERS) {
      const js = jetstream(users[user]);
      for (const other of others(user)) {
        const refused = await js.publish(SAMPLE_SUBJECT[other], 'forged', { timeout: 2000 }).then(
          () => undefined,
          (e: Error) => e,
        );
        // The client fails the request at once (a RequestError) with the server's refusal as its cause.
        t.type(
          refused?.cause,
          PermissionViolationError,
          `${user}: a JetStream publish into ${STREAM[other]} is refused`,
        );
      }
    }
    const adminJsm = await jetstreamManager(admin);
    for (const user of USERS) {
      const info = await adminJsm.streams.info(STREAM[user]);
      t.equal(info.state.messages, 1, `${STREAM[user]} holds only its own service's event`);
    }
  });

  t.test('purges: each service its own stream, by subject (erasure), never the others', async (t) => {
    const js = jetstream(users.registration);
    const erased = 'registration.attendee.registered.0193a000-0000-7000-8000-000000000001';
    const kept = 'registration.attendee.registered.0193a000-0000-7000-8000-000000000002';
    await js.publish(erased, 'Sanne de Vries');
    await js.publish(kept, 'Daan Bakker');
    const jsm = await jetstreamManager(users.registration);
    const purge = await jsm.streams.purge(STREAM.registration, {
      filter: 'registration.attendee.*.0193a000-0000-7000-8000-000000000001',
    });
    t.same({ success: purge.success, purged: purge.purged }, { success: true, purged: 1 });
    const left = await jsm.streams.getMessage(STREAM.registration, { last_by_subj: kept });
    t.equal(left?.string(), 'Daan Bakker', 'the other registration stays');
    t.equal(
      await jsm.streams.deleteMessage(STREAM.registration, left!.seq, true),
      true,
      'or is erased alone',
    );

    for (const user of USERS) {
      const userJsm = await jetstreamManager(users[user]);
      for (const other of others(user)) {
        for (const [what, attempt] of [
          ['purge', () => userJsm.streams.purge(STREAM[other])],
          ['delete a message of', () => userJsm.streams.deleteMessage(STREAM[other], 1)],
          ['delete', () => userJsm.streams.delete(STREAM[other])],
        ] as const) {
          const refused = await (attempt as () => Promise<unknown>)().then(
            () => undefined,
            (e: Error) => e,
          );
          t.ok(refused, `${user} may not ${what} ${STREAM[other]}`);
        }
      }
    }
    const adminJsm = await jetstreamManager(admin);
    for (const user of USERS) {
      const info = await adminJsm.streams.info(STREAM[user]);
      t.ok(info.state.messages >= 1, `${STREAM[user]} still holds its events`);
    }
  });
});
