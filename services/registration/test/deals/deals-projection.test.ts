// The deals projection, fed as deal-tracking publishes, and what reads it.
import { dealCreated, dealPhaseChanged, dealUpdated } from '@citydeals/contracts';
import { publishEvent } from '@citydeals/messaging';
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { dealIds, startRegistration, TestClock } from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const { http } = ctx.service;
const svc = ctx.service;

const actor = { type: 'api_key', id: 'key_programmabureau', name: 'Programmabureau' } as const;

async function publishDeal(definition: any, id: string, data: Record<string, unknown>) {
  const event = definition.schema.parse({
    specversion: '1.0',
    id,
    source: '/deal-tracking',
    type: definition.type,
    subject: data.dealId,
    time: '2027-01-10T10:00:00.000Z',
    data: { actor, occurredAt: '2027-01-10T11:00:00+01:00', ...data },
  });
  await publishEvent(svc.runtime.js, svc.runtime.ns, definition, event);
}

const dealRow = (id: string) =>
  svc.runtime.db.selectFrom('deals').selectAll().where('id', '=', id).executeTakeFirst();

t.test(
  'deals projection: from events only; stale, repeated and reordered events never move it back',
  async (t) => {
    const details = { summary: null, themes: [], signedOn: null, termEndsOn: null, tranche: null };
    const fietsen = {
      dealId: dealIds.fietsen,
      name: 'Fietsen voor Iedereen',
      slug: 'fietsen-voor-iedereen',
      kind: 'city_deal',
    };
    // Version 3 arrives before versions 1 and 2.
    await publishDeal(dealPhaseChanged, '01936a11-0000-7000-8000-000000000003', {
      ...fietsen,
      version: 3,
      phase: 'building',
      from: 'signed',
      to: 'building',
      reason: 'Coalitie in opbouw',
    });
    await publishDeal(dealCreated, '01936a11-0000-7000-8000-000000000001', {
      ...fietsen,
      ...details,
      version: 1,
      phase: 'preparing',
    });
    await publishDeal(dealUpdated, '01936a11-0000-7000-8000-000000000002', {
      ...fietsen,
      ...details,
      name: 'Oude naam',
      version: 2,
      phase: 'signed',
      changedFields: ['name'],
    });
    await publishDeal(dealCreated, '01936a11-0000-7000-8000-000000000004', {
      dealId: dealIds.binnensteden,
      name: 'Dynamische Binnensteden',
      slug: 'dynamische-binnensteden',
      kind: 'city_deal',
      ...details,
      version: 1,
      phase: 'signed',
    });
    await publishDeal(dealCreated, '01936a11-0000-7000-8000-000000000005', {
      dealId: dealIds.lopen,
      name: 'Ruimte voor Lopen',
      slug: 'ruimte-voor-lopen',
      kind: 'city_deal',
      ...details,
      version: 1,
      phase: 'delivering',
    });
    const runner = svc.runtime.consumers.get('registration-deal-projection')!;
    await eventually(() => runner.stats.handled >= 5);
    t.match(await dealRow(dealIds.fietsen), { name: 'Fietsen voor Iedereen', phase: 'building', version: 3 });

    // The same event again (a redelivery with its id) and an old version under a new id.
    await publishDeal(dealPhaseChanged, '01936a11-0000-7000-8000-000000000003', {
      ...fietsen,
      version: 3,
      phase: 'building',
      from: 'signed',
      to: 'building',
      reason: 'Coalitie in opbouw',
    });
    await publishDeal(dealUpdated, '01936a11-0000-7000-8000-000000000006', {
      ...fietsen,
      ...details,
      name: 'Nog oudere naam',
      version: 2,
      phase: 'signed',
      changedFields: ['name'],
    });
    await eventually(() => runner.stats.handled + runner.stats.duplicates >= 6);
    t.match(await dealRow(dealIds.fietsen), { name: 'Fietsen voor Iedereen', phase: 'building', version: 3 });

    const deals = (await http.inject('/deals')).json().items;
    t.same(
      deals.map((d: { name: string }) => d.name),
      ['Dynamische Binnensteden', 'Fietsen voor Iedereen', 'Ruimte voor Lopen'],
    );
  },
);
