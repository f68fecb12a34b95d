// Deals through the API: create, edit, phases, If-Match, content, filters, and the events each change publishes.
import t from 'tap';
import { call, checkEachChangePublishedOnce, startDealTracking, writtenState } from '../harness.ts';

const ctx = await startDealTracking();
t.teardown(() => ctx.close());
const service = ctx.service;

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(service, { method: 'POST', url, body, headers });
const patch = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(service, { method: 'PATCH', url, body, headers });
const get = (url: string, headers: Record<string, string> = {}) => call(service, { url, headers });

async function createDeal(body: Record<string, unknown>) {
  const res = await post('/deals', { kind: 'city_deal', ...body });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; slug: string; version: number; phase: string };
}

t.test('deals: create, read by id and slug, edit; each change is one version', async (t) => {
  const created = await post('/deals', {
    name: 'Ruimte voor Lopen',
    kind: 'city_deal',
    summary: 'Meer ruimte voor lopen.',
    themes: ['mobiliteit'],
    signedOn: '2020-06-01',
    termEndsOn: '2023-06-01',
  });
  t.equal(created.status, 201);
  t.equal(created.body.slug, 'ruimte-voor-lopen', 'slug made from the name');
  t.equal(created.body.phase, 'preparing');
  t.equal(created.body.version, 1);
  t.equal(created.headers.etag, '"1"');
  t.equal(created.headers.location, `/deals/${created.body.id}`);

  const bySlug = await get('/deals/ruimte-voor-lopen');
  t.equal(bySlug.status, 200);
  t.equal(bySlug.body.id, created.body.id);
  t.same(bySlug.body.people, []);
  const byId = await get(`/deals/${created.body.id}`);
  t.equal(byId.body.slug, 'ruimte-voor-lopen');
  t.equal((await get('/deals/no-such-deal')).status, 404);

  const edited = await patch(`/deals/${created.body.id}`, {
    summary: 'Nationaal masterplan.',
    themes: ['lopen'],
  });
  t.equal(edited.status, 200);
  t.equal(edited.body.version, 2);
  t.equal(edited.body.summary, 'Nationaal masterplan.');
  const unchanged = await patch(`/deals/${created.body.id}`, { summary: 'Nationaal masterplan.' });
  t.equal(unchanged.body.version, 2, 'an edit that changes nothing is no change');

  const duplicate = await post('/deals', { name: 'Ruimte voor Lopen', kind: 'city_deal' });
  t.equal(duplicate.status, 409);
  t.same(duplicate.body.errors, [{ field: 'body.slug', message: 'is taken by another deal' }]);

  const history = await get(`/deals/${created.body.id}/history`);
  t.same(
    history.body.items.map((i: { version: number; subject: string }) => [i.version, i.subject]),
    [
      [1, 'deal_tracking.deal.created'],
      [2, 'deal_tracking.deal.updated'],
    ],
  );
  t.same(history.body.items[1].data.changedFields, ['summary', 'themes']);
  t.same(history.body.items[1].actor, {
    type: 'api_key',
    id: 'api-key:ADMIN_API_KEY',
    name: 'ADMIN_API_KEY',
  });
});

t.test(
  'phases: the whole path with reasons in the history; illegal moves refused with the allowed ones',
  async (t) => {
    const deal = await createDeal({ name: 'Openbare Ruimte' });
    const path = ['signed', 'building', 'delivering', 'securing', 'completed'];
    for (const [i, to] of path.entries()) {
      const before = await writtenState(service);
      const skip = path[i + 1];
      if (skip) {
        const illegal = await post(`/deals/${deal.id}/transitions`, { to: skip, reason: 'te snel' });
        t.equal(illegal.status, 409, `cannot jump to ${skip}`);
        t.equal(illegal.headers['content-type'], 'application/problem+json; charset=utf-8');
        t.equal(illegal.body.type, 'https://citydeals.example.org/problems/illegal-transition');
        t.same(illegal.body.allowedPhases, [to, 'discontinued']);
        t.same(await writtenState(service), before, 'a refused transition writes nothing');
      }
      const res = await post(`/deals/${deal.id}/transitions`, { to, reason: `reden ${to}` });
      t.equal(res.status, 200);
      t.equal(res.body.phase, to);
      t.equal(res.body.version, i + 2);
    }
    const after = await post(`/deals/${deal.id}/transitions`, { to: 'discontinued', reason: 'x' });
    t.equal(after.status, 409);
    t.same(after.body.allowedPhases, []);

    const history = (await get(`/deals/${deal.id}/history`)).body;
    t.equal(history.version, 6);
    const moves = history.items
      .filter((i: { subject: string }) => i.subject === 'deal_tracking.deal.phase_changed')
      .map(
        (i: { data: { from: string; to: string; reason: string } }) =>
          `${i.data.from}>${i.data.to}:${i.data.reason}`,
      );
    t.same(moves, [
      'preparing>signed:reden signed',
      'signed>building:reden building',
      'building>delivering:reden delivering',
      'delivering>securing:reden securing',
      'securing>completed:reden completed',
    ]);
    for (const item of history.items) t.ok(Date.parse(item.occurredAt), 'every change has a time');

    const stopped = await createDeal({ name: 'Gestopte Deal' });
    await post(`/deals/${stopped.id}/transitions`, { to: 'signed', reason: 'getekend' });
    const discontinued = await post(`/deals/${stopped.id}/transitions`, {
      to: 'discontinued',
      reason: 'geen draagvlak',
    });
    t.equal(discontinued.body.phase, 'discontinued');
  },
);

t.test('If-Match: concurrent edits with the same version — one wins, the other gets 412', async (t) => {
  const deal = await createDeal({ name: 'Slim Maatwerk' });
  const results = await Promise.all(
    ['A', 'B'].map((v) => patch(`/deals/${deal.id}`, { summary: `versie ${v}` }, { 'if-match': '"1"' })),
  );
  t.same(results.map((r) => r.status).sort(), [200, 412]);
  const lost = results.find((r) => r.status === 412)!;
  t.equal(lost.body.currentVersion, 2);
  const winner = results.find((r) => r.status === 200)!;
  const now = (await get(`/deals/${deal.id}`)).body;
  t.equal(now.version, 2);
  t.equal(now.summary, winner.body.summary, 'the winner’s edit is what is stored');

  const stale = await post(
    `/deals/${deal.id}/transitions`,
    { to: 'signed', reason: 'x' },
    { 'if-match': '1' },
  );
  t.equal(stale.status, 412, 'every write honours If-Match');
  const fresh = await post(
    `/deals/${deal.id}/transitions`,
    { to: 'signed', reason: 'x' },
    { 'if-match': '"2"' },
  );
  t.equal(fresh.status, 200);
  t.equal(fresh.headers.etag, '"3"');
  const star = await post(`/deals/${deal.id}/results`, { title: 'iets' }, { 'if-match': '*' });
  t.equal(star.status, 201);
});

t.test('without If-Match concurrent edits both apply and the version grows by two', async (t) => {
  const deal = await createDeal({ name: 'Kennis Maken' });
  const results = await Promise.all([
    patch(`/deals/${deal.id}`, { summary: 'eerste' }),
    patch(`/deals/${deal.id}`, { themes: ['kennis'] }),
  ]);
  t.same(
    results.map((r) => r.status),
    [200, 200],
  );
  const now = (await get(`/deals/${deal.id}`)).body;
  t.equal(now.version, 3);
  t.equal(now.summary, 'eerste');
  t.same(now.themes, ['kennis']);
  const versions = (await get(`/deals/${deal.id}/history`)).body.items.map(
    (i: { version: number }) => i.version,
  );
  t.same(versions, [1, 2, 3]);
});

t.test('term, tranches, people, partners, results, lessons and cross-links', async (t) => {
  const impact = await createDeal({
    name: 'Impact Ondernemen',
    signedOn: '2021-03-31',
    termEndsOn: '2024-03-31',
  });
  const other = await createDeal({ name: 'Slimme Stad' });
  for (const to of ['signed', 'building', 'delivering']) {
    await post(`/deals/${impact.id}/transitions`, { to, reason: 'stap' });
  }
  const overdueList = (await get('/deals?overdue=true')).body;
  t.ok(
    overdueList.items.some((d: { id: string }) => d.id === impact.id),
    'the term passed without extension: overdue',
  );

  const extended = await post(`/deals/${impact.id}/extensions`, {
    termEndsOn: '2099-03-31',
    reason: 'Twee jaar extra met 100 partners.',
  });
  t.equal(extended.status, 200);
  t.equal(extended.body.termEndsOn, '2099-03-31');
  t.equal(extended.body.overdue, false, 'extended: no longer overdue');
  t.notOk((await get('/deals?overdue=true')).body.items.some((d: { id: string }) => d.id === impact.id));

  const tranche = await post(`/deals/${impact.id}/tranches`, {
    tranche: 2,
    startsOn: '2024-04-01',
    note: 'innoveren',
  });
  t.equal(tranche.body.tranche, 2);
  t.equal((await post(`/deals/${impact.id}/tranches`, { tranche: 2, startsOn: '2024-05-01' })).status, 400);
  const trancheEvent = (await get(`/deals/${impact.id}/history`)).body.items.at(-1);
  t.match(
    trancheEvent,
    {
      subject: 'deal_tracking.deal.tranche_started',
      data: {
        dealId: impact.id,
        tranche: 2,
        previousTranche: null,
        startsOn: '2024-04-01',
        note: 'innoveren',
      },
    },
    'a tranche is its own event, with its start date',
  );

  const state = await writtenState(service);
  for (const [body, field, endpoint] of [
    [{ termEndsOn: '2100-01-01' }, 'body.termEndsOn', '/extensions'],
    [{ termEndsOn: null }, 'body.termEndsOn', '/extensions'],
    [{ tranche: 3 }, 'body.tranche', '/tranches'],
    [{ tranche: 3, summary: 'ook dit niet' }, 'body.tranche', '/tranches'],
  ] as const) {
    const bypass = await patch(`/deals/${impact.id}`, body);
    t.equal(bypass.status, 400, `PATCH ${JSON.stringify(body)} is refused`);
    t.equal(bypass.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.equal(bypass.body.errors?.[0]?.field, field, 'the problem names the field');
    t.match(bypass.body.errors?.[0]?.message, endpoint, 'and points to the endpoint that changes it');
  }
  t.same(await writtenState(service), state, 'refused edits write nothing');
  const restated = await patch(`/deals/${impact.id}`, { termEndsOn: '2099-03-31', tranche: 2 });
  t.equal(restated.status, 200, 'restating the current term and tranche is fine');
  t.equal(restated.body.version, tranche.body.version, 'and no change');

  const person = await post(`/deals/${impact.id}/people`, {
    name: 'Yara Bos',
    role: 'dealmaker',
    email: 'yara.bos@example.org',
  });
  t.equal(person.status, 201);
  const partner = await post(`/deals/${impact.id}/partners`, {
    name: 'Impactbank',
    type: 'bank',
    joinedOn: '2022-01-01',
  });
  t.equal(partner.status, 201);
  const left = await post(`/deals/${impact.id}/partners/${partner.body.partner.id}/leave`, {
    leftOn: '2023-12-31',
    reason: 'Afgerond.',
  });
  t.equal(left.status, 200);
  t.equal(left.body.partner.leftOn, '2023-12-31');
  t.equal(
    (await post(`/deals/${impact.id}/partners/${partner.body.partner.id}/leave`, { leftOn: '2024-01-01' }))
      .status,
    409,
    'a partner leaves once',
  );
  const result = await post(`/deals/${impact.id}/results`, {
    title: 'Gereedschapskist',
    achievedOn: '2023-11-23',
  });
  t.equal(result.status, 201);
  const lesson = await post(`/deals/${impact.id}/lessons`, {
    kind: 'setback',
    text: 'Drie jaar is kort.',
    meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
  });
  t.equal(lesson.body.lesson.meetingId, '01936b2a-4f00-7c3e-9a1b-2d4e6f708192');
  const lessonWithout = await post(`/deals/${impact.id}/lessons`, { kind: 'success', text: '100 partners.' });
  t.equal(lessonWithout.body.lesson.meetingId, null);
  const link = await post(`/deals/${impact.id}/links`, { otherDealId: other.id, note: 'dwarsverband' });
  t.equal(link.status, 201);
  t.equal(
    (await post(`/deals/${other.id}/links`, { otherDealId: impact.id })).status,
    409,
    'one link per pair',
  );
  const removed = await call(service, {
    method: 'DELETE',
    url: `/deals/${impact.id}/people/${person.body.person.id}`,
  });
  t.equal(removed.status, 200);

  const detail = (await get(`/deals/${impact.id}`)).body;
  t.equal(detail.version, 14);
  t.equal(removed.body.dealVersion, 14);
  t.same(detail.people, []);
  t.same(
    detail.partners.map((p: { name: string; leftOn: string }) => [p.name, p.leftOn]),
    [['Impactbank', '2023-12-31']],
  );
  t.same(
    detail.extensions.map((e: { previousTermEndsOn: string; termEndsOn: string }) => [
      e.previousTermEndsOn,
      e.termEndsOn,
    ]),
    [['2024-03-31', '2099-03-31']],
  );
  t.same(
    detail.tranches.map((x: { tranche: number; startsOn: string }) => [x.tranche, x.startsOn]),
    [[2, '2024-04-01']],
  );
  t.same(
    detail.results.map((r: { title: string }) => r.title),
    ['Gereedschapskist'],
  );
  t.equal(detail.lessons.length, 2);
  t.equal(detail.links[0].otherDealSlug, 'slimme-stad');
  const otherDetail = (await get(`/deals/${other.id}`)).body;
  t.equal(otherDetail.links[0].otherDealId, impact.id, 'the link shows on the other deal too');
  t.equal(otherDetail.version, 1, 'it is a change of the deal it was recorded on');

  const subjects = (await get(`/deals/${impact.id}/history`)).body.items.map(
    (i: { subject: string }) => i.subject,
  );
  t.same(subjects.slice(4), [
    'deal_tracking.deal.term_extended',
    'deal_tracking.deal.tranche_started',
    'deal_tracking.deal.updated',
    'deal_tracking.partner.joined',
    'deal_tracking.partner.left',
    'deal_tracking.result.recorded',
    'deal_tracking.lesson.recorded',
    'deal_tracking.lesson.recorded',
    'deal_tracking.link.created',
    'deal_tracking.deal.updated',
  ]);
});

t.test('list filters: phase, kind, theme, text search', async (t) => {
  const town = await createDeal({
    name: 'Town Deal Vitale Kernen',
    kind: 'town_deal',
    themes: ['kleine kernen'],
  });
  await createDeal({
    name: 'Fietsen voor Iedereen',
    summary: 'Fietsen toegankelijk voor 100% van de mensen.',
  });
  const names = async (query: string) =>
    (await get(`/deals?${query}`)).body.items.map((d: { name: string }) => d.name) as string[];
  t.same(await names('kind=town_deal'), ['Town Deal Vitale Kernen']);
  t.same(await names('theme=kleine%20kernen'), ['Town Deal Vitale Kernen']);
  t.same(await names('q=FIETS'), ['Fietsen voor Iedereen']);
  t.same(await names('q=toegankelijk'), ['Fietsen voor Iedereen'], 'searches the summary');
  t.same(await names('q=kernen'), ['Town Deal Vitale Kernen']);
  t.same(await names('q=100%25'), ['Fietsen voor Iedereen'], '% is a character, not a wildcard');
  t.same(await names('q=_'), [], '_ is a character, not a wildcard');
  t.same(await names('phase=completed'), ['Openbare Ruimte']);
  t.same(await names('phase=completed&phase=discontinued'), ['Gestopte Deal', 'Openbare Ruimte']);
  const page = (await get('/deals?limit=2&offset=1')).body;
  t.equal(page.items.length, 2);
  t.ok(page.total >= 8);
  t.ok(town.id);
});

t.test(
  'each change published exactly one event, with the deal’s version, matching the history',
  async (t) => {
    await checkEachChangePublishedOnce(t, service);
  },
);
