import { type Actor, dealUpdated } from '@citydeals/contracts';
import { newEventId, shutdown, systemClock } from '@citydeals/service-kit';
import { sql } from 'kysely';
import t from 'tap';
import { loadServiceConfig } from '../src/config.ts';
import type { ServiceContext } from '../src/context.ts';
import { updateDeal } from '../src/deals/deal.repository.ts';
import { changeDeal, recordChange, snapshotOf } from '../src/deals/deal.service.ts';
import { startService } from '../src/service.ts';
import { call, publishedEvents, startDealTracking, writtenState } from './harness.ts';

// One service with the demo data seeded, as `npm start` runs it; the feed tests add their own deals on top.
const ctx = await startDealTracking({ SEED_DEMO_DATA: 'true' });
t.teardown(() => ctx.close());
const service = ctx.service;
const db = service.runtime.db;

interface FeedItem {
  position: number;
  dealId: string;
  version: number;
  event: { id: string; type: string; data: { version: number } };
}

async function page(after: number, limit: number) {
  const res = await call(service, { url: `/changes?after=${after}&limit=${limit}` });
  if (res.status !== 200) throw new Error(`feed answered ${res.status}`);
  return res.body as { items: FeedItem[]; next: number; hasMore: boolean };
}

/** Reads pages from `after` until the feed says it is caught up. */
async function readToEnd(after: number, limit: number) {
  const items: FeedItem[] = [];
  let cursor = after;
  for (;;) {
    const p = await page(cursor, limit);
    items.push(...p.items);
    cursor = p.next;
    if (!p.hasMore) return { items, cursor };
  }
}

async function createDeal(name: string) {
  const res = await call(service, { method: 'POST', url: '/deals', body: { name, kind: 'city_deal' } });
  if (res.status !== 201) throw new Error(`create failed: ${JSON.stringify(res.body)}`);
  return res.body as { id: string };
}

const articleNames = [
  'Monique Verhoef',
  'Jos Sentel',
  'Regien van Adrichem',
  'Roy Tomeij',
  'Huibert de Leede',
  'Jan-Willem Wesselink',
  'Roselinde Wijnands',
  'Christiaan Seemann',
  'Iris Visser',
  'Bart Stoffels',
  'Farida Polsbroek',
  'Jan Bockma',
  'Koen Haer',
  'Jurian Strik',
];

t.test(
  'demo data: the eleven deals of the article and one Town Deal, through the service, once',
  async (t) => {
    const deals = (await call(service, { url: '/deals' })).body.items as {
      id: string;
      name: string;
      kind: string;
      phase: string;
      tranche: number | null;
    }[];
    const phases = Object.fromEntries(deals.map((d) => [d.name, d.phase]));
    t.same(phases, {
      'Fietsen voor Iedereen': 'signed',
      'Dynamische Binnensteden': 'building',
      'Energieke Wijken, Duurzaam en Sociaal': 'delivering',
      'Lokale Weerbaarheid Cybercrime': 'securing',
      'Gezonde en Duurzame Voedselomgeving': 'delivering',
      'Slimme Stad': 'securing',
      'Slim Maatwerk': 'delivering',
      'Kennis Maken': 'delivering',
      'Ruimte voor Lopen': 'delivering',
      'Openbare Ruimte': 'securing',
      'Impact Ondernemen': 'delivering',
      'Town Deal Vitale Kernen': 'building',
    });
    t.same(
      deals.filter((d) => d.kind === 'town_deal').map((d) => d.name),
      ['Town Deal Vitale Kernen'],
    );
    t.equal(deals.find((d) => d.name === 'Lokale Weerbaarheid Cybercrime')?.tranche, 3);

    const detail = async (slug: string) => (await call(service, { url: `/deals/${slug}` })).body;
    const energie = await detail('energieke-wijken-duurzaam-en-sociaal');
    t.match(energie.results[0].title, /ISDE/);
    t.match((await detail('kennis-maken')).results[0].title, /5 miljoen/);
    t.match((await detail('openbare-ruimte')).lessons[0], { kind: 'setback', text: /3 jaar/ });
    t.ok((await detail('slimme-stad')).links.length >= 2, 'cross-links found at the meeting');
    const history = (await call(service, { url: `/deals/${energie.id}/history` })).body.items;
    t.same(history[0].actor, { type: 'system', id: 'demo-seed', name: 'Demo data (CoP 23 november 2023)' });
    t.same(
      history
        .filter((h: { subject: string }) => h.subject.endsWith('phase_changed'))
        .map((h: any) => h.data.to),
      ['signed', 'building', 'delivering'],
      'phases reached step by step through the machine',
    );

    const people = await db.selectFrom('deal_person').select(['name', 'email']).execute();
    t.ok(people.length >= 12);
    for (const person of people) {
      t.match(person.email, /@example\.org$/, `${person.name}: example.org address`);
      t.notOk(articleNames.includes(person.name), `${person.name} is not a person named in the article`);
    }

    const state = await writtenState(service);
    const events = await publishedEvents(service, state.changes);
    t.equal(events.length, state.changes, 'every seeded change published its event');

    const replica = await startService(loadServiceConfig(ctx.env));
    await shutdown(replica);
    t.same(await writtenState(service), state, 'a second start adds nothing');
  },
);

t.test('a transaction that started first and commits last is not skipped by the feed', async (t) => {
  const early = await createDeal('Vroege Schrijver');
  const other = await createDeal('Snelle Schrijver');
  const { cursor: start } = await readToEnd(0, 500);

  const dealCtx: ServiceContext = { db, clock: systemClock, newId: newEventId };
  const actor: Actor = { type: 'system', id: 'test', name: null };
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  // The same code path as every change (lock, version, history row, outbox), held open before commit.
  const late = changeDeal(
    dealCtx,
    { dealId: early.id, ifMatch: { kind: 'none' }, actor },
    async (trx, deal) => {
      await updateDeal(trx, deal.id, { summary: 'te laat' });
      deal.summary = 'te laat';
      await recordChange(trx, dealCtx, deal, actor, dealUpdated, {
        ...snapshotOf(deal),
        changedFields: ['summary'],
      });
      wrote();
      await gate;
    },
  );
  await written;

  for (const n of [1, 2, 3]) {
    const res = await call(service, {
      method: 'PATCH',
      url: `/deals/${other.id}`,
      body: { summary: `snel ${n}` },
    });
    t.equal(res.status, 200);
  }
  const { rows } = await sql<{ early: number; other: number }>`
    select (select min(id) from deal_change where deal_id = ${early.id} and version = 2) as early,
           (select min(id) from deal_change where deal_id = ${other.id} and version = 2) as other`.execute(
    db,
  );
  t.ok(rows[0]!.early < rows[0]!.other, 'the late change took the lower id: an id cursor would pass it by');

  const before = await readToEnd(start, 2);
  t.same(
    before.items.map((i) => [i.dealId, i.version]),
    [
      [other.id, 2],
      [other.id, 3],
      [other.id, 4],
    ],
    'the committed changes are in the feed; the open one is not',
  );

  release();
  await late;
  const after = await readToEnd(before.cursor, 2);
  t.same(
    after.items.map((i) => [i.dealId, i.version]),
    [[early.id, 2]],
    'after it commits, the late change comes next from the same cursor',
  );
  t.ok(after.items[0]!.position > before.items.at(-1)!.position);
});

t.test(
  'under concurrent writers the feed returns every change exactly once, in order, across pages',
  async (t) => {
    const { cursor: start, items: earlier } = await readToEnd(0, 1000);
    const deals = await Promise.all(
      ['Schrijver A', 'Schrijver B', 'Schrijver C', 'Schrijver D'].map(createDeal),
    );
    let writing = true;
    const writers = Promise.all([
      ...deals.map(async (deal, w) => {
        for (let n = 1; n <= 12; n++) {
          const res = await call(service, {
            method: 'PATCH',
            url: `/deals/${deal.id}`,
            body: { summary: `w${w} ${n}` },
          });
          if (res.status !== 200) throw new Error(`write failed: ${res.status}`);
        }
      }),
      // A second writer on the first deal, so changes of one deal also race for its row.
      (async () => {
        for (let n = 1; n <= 8; n++) {
          const res = await call(service, {
            method: 'POST',
            url: `/deals/${deals[0]!.id}/lessons`,
            body: { kind: 'success', text: `les ${n}` },
          });
          if (res.status !== 201) throw new Error(`write failed: ${res.status}`);
        }
      })(),
    ]).finally(() => {
      writing = false;
    });

    const seen: FeedItem[] = [];
    let cursor = start;
    let pages = 0;
    // Reads while the writers write, then until caught up after the last commit.
    for (;;) {
      const stillWriting = writing;
      const p = await page(cursor, 7);
      pages++;
      seen.push(...p.items);
      cursor = p.next;
      if (!stillWriting && !p.hasMore) break;
      if (!p.hasMore) await new Promise((resolve) => setImmediate(resolve));
    }
    await writers;

    const all = await db.selectFrom('deal_change').select(['event_id']).execute();
    const expected = new Set(all.map((r) => r.event_id));
    for (const item of earlier) expected.delete(item.event.id);
    const ids = seen.map((i) => i.event.id);
    t.equal(seen.length, 4 + 4 * 12 + 8, 'every change of this test');
    t.equal(new Set(ids).size, ids.length, 'none twice');
    t.same(new Set(ids), expected, 'exactly the committed changes not read before');
    t.ok(pages > seen.length / 7, `read across ${pages} pages`);
    for (let i = 1; i < seen.length; i++) {
      if (!(seen[i]!.position > seen[i - 1]!.position)) t.fail(`position order broken at ${i}`);
    }
    for (const deal of deals) {
      const versions = seen.filter((i) => i.dealId === deal.id).map((i) => i.version);
      t.same(
        versions,
        Array.from({ length: versions.length }, (_, i) => i + 1),
        'a deal’s versions come in order, none missing',
      );
      for (const item of seen.filter((i) => i.dealId === deal.id)) {
        if (item.event.data.version !== item.version)
          t.fail('the event carries the version of its feed item');
      }
    }
    t.equal(seen.filter((i) => i.dealId === deals[0]!.id).length, 1 + 12 + 8);
    const again = await page(cursor, 10);
    t.same(again.items, [], 'caught up: nothing more');
    t.equal(again.next, cursor, 'the cursor stays where it was');
  },
);
