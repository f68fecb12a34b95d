// eraseSubjects on a nats-server of the test's own, whose store files the test reads: an erased message is
// gone from the stream and from the disk (a filtered purge would leave its bytes in the block file).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startOwnNats } from '@citydeals/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import t from 'tap';
import { eraseSubjects, namespace } from '../src/index.ts';

async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) found.push(path);
  }
  return found;
}

t.test('the messages of one entity are erased from the stream and its store files', async (t) => {
  const nats = await startOwnNats();
  t.teardown(() => nats.close());
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const ns = namespace('erasure');
  const stream = { name: 'PEOPLE', service: 'registration', subjects: ['registration.>'] } as const;
  await jsm.streams.add({ name: ns.streamName(stream), subjects: ns.streamSubjects(stream) });
  const erased = '0193a000-0000-7000-8000-00000000000e';
  const kept = '0193a000-0000-7000-8000-00000000000f';
  for (const [subject, body] of [
    [`registration.attendee.registered.${kept}`, 'Daan Bakker d.bakker@example.org'],
    [`registration.attendee.registered.${erased}`, 'Sanne de Vries sanne.devries@example.org'],
    [`registration.attendee.needs_changed.${erased}`, 'sanne.devries@example.org glutenvrij'],
    [`registration.attendee.needs_changed.${kept}`, 'd.bakker@example.org vegetarisch'],
    ['registration.attendee.erased', erased],
  ] as const) {
    await js.publish(ns.subject(subject), body);
  }
  t.ok((await filesHolding(nats.storeDir, 'sanne.devries')).length > 0, 'the store holds the person first');

  const access = { jsm, ns };
  t.equal(await eraseSubjects(access, stream, `registration.attendee.*.${erased}`), 2, 'two messages erased');
  t.equal(await eraseSubjects(access, stream, `registration.attendee.*.${erased}`), 0, 'again: nothing left');
  t.same(await filesHolding(nats.storeDir, 'sanne.devries'), [], 'no store file holds the address any more');
  t.same(await filesHolding(nats.storeDir, 'glutenvrij'), [], 'nor the needs');

  const info = await jsm.streams.info(ns.streamName(stream));
  t.equal(info.state.messages, 3, 'the other registration and the erasure event stay');
  const other = await jsm.streams.getMessage(ns.streamName(stream), {
    last_by_subj: ns.subject(`registration.attendee.needs_changed.${kept}`),
  });
  t.equal(other?.string(), 'd.bakker@example.org vegetarisch');
});
