import { registrationEvents } from '@citydeals/contracts';
import { headers } from '@nats-io/transport-node';
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { ackError, JetStreamBatchPublisher } from '../src/index.ts';
import { type Messaging, setupMessaging } from './fixture.ts';

let m: Messaging;
t.before(async () => {
  m = await setupMessaging();
});
t.teardown(() => m.close());

const subject = () => m.ns.subject(registrationEvents.attendeeRegistered.subject);
/** A subject no stream of this namespace takes. */
const outsideTheStream = () => m.ns.subject(`elsewhere.${uuidv7()}`);

async function storedIds(): Promise<string[]> {
  const info = await m.jsm.streams.info(m.streamName);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await m.jsm.streams.getMessage(m.streamName, { seq });
    if (msg) ids.push(msg.header.get('Nats-Msg-Id'));
  }
  return ids;
}

t.test('a batch is stored in order, each message once per msgId', async (t) => {
  await m.jsm.streams.purge(m.streamName);
  const publisher = new JetStreamBatchPublisher(m.nc);
  t.teardown(() => publisher.close());
  const items = Array.from({ length: 300 }, (_, n) => ({
    subject: subject(),
    payload: JSON.stringify({ n }),
    msgId: uuidv7(),
  }));
  const outcomes = await publisher.publishAll(items, 5_000);
  t.same(outcomes, new Array(300).fill(null), 'every message acknowledged');
  t.same(
    await storedIds(),
    items.map((i) => i.msgId),
    'stored in the order given',
  );

  // Published again (a relay that crashed before marking them): acknowledged, not stored twice.
  const again = await publisher.publishAll(items.slice(0, 10), 5_000);
  t.same(again, new Array(10).fill(null), 'a duplicate is acknowledged');
  t.equal((await storedIds()).length, 300, 'and not stored again');
  t.same(await publisher.publishAll([], 5_000), [], 'an empty batch is settled at once');
});

t.test('a message nobody stores fails on its own; the rest of the batch is stored', async (t) => {
  await m.jsm.streams.purge(m.streamName);
  const publisher = new JetStreamBatchPublisher(m.nc);
  t.teardown(() => publisher.close());
  const stored = { subject: subject(), payload: '{"n":1}', msgId: uuidv7() };
  const streamless = { subject: outsideTheStream(), payload: '{"n":2}', msgId: uuidv7() };
  const after = { subject: subject(), payload: '{"n":3}', msgId: uuidv7() };
  const outcomes = await publisher.publishAll([stored, streamless, after], 5_000);
  t.equal(outcomes[0], null);
  t.match(outcomes[1]?.message, /did not store the message: 503/, 'no stream: the server says so at once');
  t.equal(outcomes[2], null);
  t.same(await storedIds(), [stored.msgId, after.msgId]);
});

t.test('a message that is never acknowledged times out, without holding back the others', async (t) => {
  await m.jsm.streams.purge(m.streamName);
  // A plain subscriber on a subject outside the stream takes the message and never answers.
  const silent = outsideTheStream();
  const sink = m.nc.subscribe(silent);
  t.teardown(() => sink.unsubscribe());
  await m.nc.flush();
  const publisher = new JetStreamBatchPublisher(m.nc);
  t.teardown(() => publisher.close());
  const started = performance.now();
  const outcomes = await publisher.publishAll(
    [
      { subject: subject(), payload: '{}', msgId: uuidv7() },
      { subject: silent, payload: '{}', msgId: uuidv7() },
    ],
    300,
  );
  t.equal(outcomes[0], null, 'the stored one is acknowledged');
  t.match(outcomes[1]?.message, /did not acknowledge within 300 ms/);
  t.ok(performance.now() - started >= 290, 'after the timeout, not before');
});

t.test('ackError reads what JetStream answers', async (t) => {
  const reply = (body: string, status?: [number, string]) => ({
    headers: status ? headers(status[0], status[1]) : undefined,
    string: () => body,
  });
  t.equal(ackError(reply('{"stream":"S","seq":4}')), null);
  t.equal(ackError(reply('{"stream":"S","seq":4,"duplicate":true}')), null);
  t.match(
    ackError(reply('{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"}}'))
      ?.message,
    /wrong last sequence: 3 \(10071\)/,
  );
  t.match(ackError(reply('', [503, 'No Responders']))?.message, /503/);
  t.match(ackError(reply('not json'))?.message, /something else than an acknowledgement/);
  t.match(ackError(reply('{"seq":1}'))?.message, /something else than an acknowledgement/);
});
