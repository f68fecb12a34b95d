/**
 * (issue 22, 5) Rolling upgrade of an event contract, `deal_tracking.deal.updated` v1 → v2 (a test-only v2,
 * see src/upgrade.ts), while old and new replicas of its producer and its consumer run side by side on real
 * Postgres and JetStream. The rule of docs/upgrades.md, step by step under a steady stream of changes:
 *   1. new consumers (read v1 and v2) join the old ones (read v1, know no v2); the old ones retire;
 *   2. new producers (write v2) join the old ones (write v1); the old ones retire;
 *   3. once no v1 event is left unapplied, consumers that read only v2 replace those that read both.
 * Asserted: every change applied exactly once, read as the version it was written in with the summary it
 * was written with, nothing dead-lettered, nothing ignored. The other order — a v2 producer while only old
 * consumers run — is run too: its v2 events are dead-lettered by the old consumers, and the same verdict
 * reports them, so the check would catch a broken rule.
 */

import { checkCatalog, eventCatalog } from '@citydeals/contracts';
import t from 'tap';
import { dealUpdatedV2, UpgradeWorld, type Verdict } from '../src/upgrade.ts';

const changesPerStep = Number(process.env.FAULTS_UPGRADE_CHANGES ?? 60);

t.test('the test-only v2 is a valid next version of its contract', async (t) => {
  t.same(checkCatalog([...eventCatalog, dealUpdatedV2]), [], 'the catalog with v2 added has no problems');
  t.equal(dealUpdatedV2.type, 'nl.citydeals.deal_tracking.deal.updated.v2');
});

t.test(
  'consumers first, then producers, then retire v1: nothing dead-lettered, nothing misread',
  async (t) => {
    const world = await UpgradeWorld.start();
    t.teardown(() => world.close());
    const oldProducer = await world.producer('producer-old', 1);
    const oldConsumers = [
      await world.consumer('consumer-old-a', [1]),
      await world.consumer('consumer-old-b', [1]),
    ];
    await world.progress(changesPerStep);

    // 1. New consumers beside the old ones, on the same durable consumer; then the old ones go, one by one.
    const newConsumers = [await world.consumer('consumer-new-a', [1, 2])];
    await world.progress(changesPerStep * 2);
    await oldConsumers[0]!.stop();
    newConsumers.push(await world.consumer('consumer-new-b', [1, 2]));
    await world.progress(changesPerStep);
    await oldConsumers[1]!.stop();
    await world.progress(changesPerStep);

    // 2. A new producer beside the old one; then the old one goes.
    const newProducer = await world.producer('producer-new', 2);
    await world.progress(changesPerStep * 2);
    await oldProducer.stop();
    await world.progress(changesPerStep);

    // 3. v1 retires only when no v1 event can still arrive: no producer writes it and every one is applied.
    await world.appliedAll(1);
    const beforeRetiring = await world.verdict();
    t.same(
      beforeRetiring.missing.filter((m) => m.endsWith(' v1')),
      [],
      'every v1 event applied before v1 retires',
    );
    const v2Only = await world.consumer('consumer-v2-only', [2]);
    for (const c of newConsumers) await c.stop();
    await world.progress(changesPerStep);
    await newProducer.stopWriting();
    await world.settle();

    const verdict = await world.verdict();
    const spans = await world.writeSpans();
    t.comment(`verdict: ${JSON.stringify({ ...verdict, missing: verdict.missing.length })}`);
    t.same(verdict.missing, [], 'no change without its event applied');
    t.same(verdict.doubled, [], 'no change applied twice');
    t.same(verdict.misread, [], 'every event read as the version and with the summary it was written in');
    t.same(verdict.deadLettered, [], 'nothing dead-lettered');
    t.equal(v2Only.runner.stats.ignored, 0, 'the v2-only consumers met no v1 event');
    t.equal(
      verdict.appliedOnce,
      verdict.written.v1 + verdict.written.v2,
      'every written change applied once',
    );

    // The overlaps really happened.
    const read = verdict.readBy;
    t.ok(
      (read['consumer-old-a read v1'] ?? 0) > 0 && (read['consumer-new-a read v1'] ?? 0) > 0,
      'old and new consumers shared the v1 events while both ran',
    );
    t.ok(
      spans.v2 !== undefined && spans.v1 !== undefined && spans.v2.first < spans.v1.last,
      'v1 and v2 events were written side by side',
    );
    t.ok(
      (read['consumer-new-a read v2'] ?? 0) + (read['consumer-new-b read v2'] ?? 0) > 0,
      'new consumers read v2',
    );
    t.ok((read['consumer-v2-only read v2'] ?? 0) > 0, 'the v2-only consumer read v2');
    t.same(
      world.log.filter((l) => / error: /.test(l)),
      [],
      'no replica logged an error',
    );
  },
);

t.test(
  'producers first (the rule broken): the old consumers dead-letter v2, and the verdict says so',
  async (t) => {
    const world = await UpgradeWorld.start();
    t.teardown(() => world.close());
    const oldConsumer = await world.consumer('consumer-old', [1]);
    const oldProducer = await world.producer('producer-old', 1);
    await world.progress(changesPerStep / 2);
    const newProducer = await world.producer('producer-new', 2);
    await world.progress(changesPerStep);
    await Promise.all([oldProducer.stopWriting(), newProducer.stopWriting()]);
    await world.settle();
    const verdict: Verdict = await world.verdict();
    t.comment(
      `verdict: ${JSON.stringify({ ...verdict, missing: verdict.missing.length, deadLettered: verdict.deadLettered.length })}`,
    );
    t.ok(verdict.written.v2 > 0, `v2 events were written (${verdict.written.v2})`);
    t.equal(
      verdict.deadLettered.length,
      verdict.written.v2,
      'every v2 event was dead-lettered by the old consumer',
    );
    t.equal(verdict.missing.length, verdict.written.v2, 'and so none of those changes was applied');
    t.match(
      verdict.deadLettered[0],
      /unknown event type or version nl\.citydeals\.deal_tracking\.deal\.updated\.v2/,
    );
    t.equal(oldConsumer.runner.stats.deadLettered, verdict.written.v2);
  },
);
