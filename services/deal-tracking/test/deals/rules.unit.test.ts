import { type DealPhase, dealPhases } from '@citydeals/contracts';
import t from 'tap';
import {
  decideExtension,
  decideTranche,
  ifMatchHolds,
  isOverdue,
  looksLikeId,
  parseIfMatch,
  planEdit,
  slugFromName,
  todayIn,
} from '../../src/deals/deal.rules.ts';
import { decideTransition } from '../../src/deals/phase.rules.ts';
import { pathTo } from '../../src/seed/seed.service.ts';

// The lifecycle as the issue states it, written out by hand (not derived from the contracts' table), so a
// wrong edit of either side fails here.
const legal = new Set([
  'preparing>signed',
  'signed>building',
  'building>delivering',
  'delivering>securing',
  'securing>completed',
  'preparing>discontinued',
  'signed>discontinued',
  'building>discontinued',
  'delivering>discontinued',
  'securing>discontinued',
]);
const expectedAllowed: Record<DealPhase, DealPhase[]> = {
  preparing: ['signed', 'discontinued'],
  signed: ['building', 'discontinued'],
  building: ['delivering', 'discontinued'],
  delivering: ['securing', 'discontinued'],
  securing: ['completed', 'discontinued'],
  completed: [],
  discontinued: [],
};

t.test(
  'every pair of phases: the legal moves pass, every other is refused with the allowed phases',
  async (t) => {
    t.equal(dealPhases.length, 7);
    let allowedCount = 0;
    for (const from of dealPhases) {
      for (const to of dealPhases) {
        const decision = decideTransition(from, to);
        const shouldPass = legal.has(`${from}>${to}`);
        t.equal(decision.allowed, shouldPass, `${from} → ${to} ${shouldPass ? 'allowed' : 'refused'}`);
        t.equal(decision.from, from);
        t.equal(decision.to, to);
        if (decision.allowed) allowedCount++;
        else {
          t.same(decision.allowedPhases, expectedAllowed[from], `${from} → ${to} lists what is allowed`);
          t.match(
            decision.why,
            from === to || expectedAllowed[from].length === 0 ? from : `${from} to ${to}`,
          );
        }
      }
    }
    t.equal(allowedCount, legal.size, 'exactly the ten legal moves');
  },
);

t.test('terminal phases explain that nothing follows; the same phase is not a move', async (t) => {
  const done = decideTransition('completed', 'securing');
  t.notOk(done.allowed);
  if (!done.allowed) t.match(done.why, /does not change phase any more/);
  const same = decideTransition('building', 'building');
  t.notOk(same.allowed);
  if (!same.allowed) t.match(same.why, /already building/);
});

t.test('the seed reaches each phase by legal single steps', async (t) => {
  t.same(pathTo('preparing'), []);
  t.same(pathTo('securing'), ['signed', 'building', 'delivering', 'securing']);
  for (const target of ['signed', 'building', 'delivering', 'securing', 'completed'] as const) {
    let phase: DealPhase = 'preparing';
    for (const step of pathTo(target)) {
      t.ok(decideTransition(phase, step).allowed, `${phase} → ${step}`);
      phase = step;
    }
    t.equal(phase, target);
  }
  t.throws(() => pathTo('discontinued'));
});

t.test('overdue: an active deal whose (extended) term ended before today', async (t) => {
  const cases: [DealPhase, string | null, string, boolean][] = [
    ['delivering', '2024-03-31', '2024-04-01', true],
    ['delivering', '2024-03-31', '2024-03-31', false],
    ['delivering', '2026-03-31', '2024-04-01', false],
    ['preparing', '2020-01-01', '2024-04-01', true],
    ['securing', null, '2024-04-01', false],
    ['completed', '2020-01-01', '2024-04-01', false],
    ['discontinued', '2020-01-01', '2024-04-01', false],
  ];
  for (const [phase, termEndsOn, today, expected] of cases) {
    t.equal(isOverdue({ phase, termEndsOn }, today), expected, `${phase} ${termEndsOn} on ${today}`);
  }
});

t.test('today is the Dutch calendar day', async (t) => {
  t.equal(todayIn(new Date('2024-03-31T22:30:00Z')), '2024-04-01', 'after midnight in Amsterdam (CEST)');
  t.equal(todayIn(new Date('2024-01-01T22:30:00Z')), '2024-01-01', 'before midnight in Amsterdam (CET)');
});

t.test('slugs from Dutch names', async (t) => {
  t.equal(slugFromName('Energieke Wijken, Duurzaam en Sociaal'), 'energieke-wijken-duurzaam-en-sociaal');
  t.equal(slugFromName('  Café Één — Test!  '), 'cafe-een-test');
  t.equal(slugFromName('!!!'), '');
  t.ok(slugFromName('x'.repeat(300)).length <= 120);
  t.ok(looksLikeId('01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f'));
  t.notOk(looksLikeId('slimme-stad'));
});

const details = {
  name: 'Slimme Stad',
  slug: 'slimme-stad',
  kind: 'city_deal' as const,
  summary: null,
  themes: ['digitalisering'],
  signedOn: '2020-01-01',
  termEndsOn: '2023-01-01',
  tranche: null,
};

t.test('an edit lists only fields that really change and keeps the term after signing', async (t) => {
  const same = planEdit(details, { name: 'Slimme Stad', themes: ['digitalisering'] });
  t.same(same, { ok: true, next: details, changedFields: [] });
  const changed = planEdit(details, { themes: ['digitalisering', 'data'], summary: 'Nieuw', tranche: null });
  t.ok(changed.ok);
  if (changed.ok) {
    t.same(changed.changedFields, ['summary', 'themes']);
    t.same(changed.next.themes, ['digitalisering', 'data']);
  }
  t.same(planEdit(details, { signedOn: '2023-01-01' }), {
    ok: false,
    errors: [{ field: 'body.termEndsOn', message: 'must be after signedOn' }],
  });
  t.same(planEdit(details, { signedOn: null }).ok, true, 'clearing the signing date is fine');
  const bypass = planEdit(details, { termEndsOn: '2030-01-01', tranche: 2, summary: 'Nieuw' });
  t.same(
    bypass.ok ? [] : bypass.errors.map((e) => e.field),
    ['body.termEndsOn', 'body.tranche'],
    'the term and the tranche change only through their own endpoints',
  );
  const uuidSlug = planEdit(details, { slug: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f' });
  t.same(uuidSlug.ok ? [] : uuidSlug.errors.map((e) => e.field), ['body.slug']);
});

t.test('extensions and tranches move forward on active deals only', async (t) => {
  const deal = {
    phase: 'delivering' as DealPhase,
    termEndsOn: '2024-03-31',
    signedOn: '2021-03-31',
    tranche: 2,
  };
  t.same(decideExtension(deal, '2026-03-31'), { ok: true });
  t.match(decideExtension(deal, '2024-03-31'), { ok: false, status: 400, field: 'body.termEndsOn' });
  t.match(decideExtension({ ...deal, termEndsOn: null }, '2021-01-01'), {
    ok: false,
    field: 'body.termEndsOn',
  });
  t.same(decideExtension({ ...deal, termEndsOn: null }, '2025-01-01'), { ok: true });
  t.match(decideExtension({ ...deal, phase: 'completed' }, '2026-03-31'), { ok: false, status: 409 });
  t.same(decideTranche(deal, 3), { ok: true });
  t.match(decideTranche(deal, 2), { ok: false, status: 400, field: 'body.tranche' });
  t.same(decideTranche({ ...deal, tranche: null }, 1), { ok: true });
  t.match(decideTranche({ ...deal, phase: 'discontinued' }, 3), { ok: false, status: 409 });
});

t.test('If-Match: quoted or bare versions, lists, *, and garbage', async (t) => {
  t.same(parseIfMatch(undefined), { kind: 'none' });
  t.same(parseIfMatch('*'), { kind: 'any' });
  t.same(parseIfMatch('"3"'), { kind: 'versions', versions: [3] });
  t.same(parseIfMatch('3'), { kind: 'versions', versions: [3] });
  t.same(parseIfMatch('W/"3", "4"'), { kind: 'versions', versions: [3, 4] });
  t.same(parseIfMatch('"abc"'), { kind: 'invalid' });
  t.same(parseIfMatch('"0"'), { kind: 'invalid' });
  t.ok(ifMatchHolds(parseIfMatch('"3"'), 3));
  t.notOk(ifMatchHolds(parseIfMatch('"3"'), 4));
  t.ok(ifMatchHolds(parseIfMatch('"3", "4"'), 4));
  t.ok(ifMatchHolds(parseIfMatch('*'), 9));
  t.ok(ifMatchHolds(parseIfMatch(undefined), 9));
  t.notOk(ifMatchHolds(parseIfMatch('nope'), 9));
});
