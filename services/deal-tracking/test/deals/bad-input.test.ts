// Bad input and keys on every endpoint, and the OpenAPI document of every route.
import t from 'tap';
import {
  call,
  checkEachChangePublishedOnce,
  readHeaders,
  startDealTracking,
  writtenState,
} from '../harness.ts';

const ctx = await startDealTracking();
t.teardown(() => ctx.close());
const service = ctx.service;

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(service, { method: 'POST', url, body, headers });
const get = (url: string, headers: Record<string, string> = {}) => call(service, { url, headers });

async function createDeal(body: Record<string, unknown>) {
  const res = await post('/deals', { kind: 'city_deal', ...body });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; slug: string; version: number; phase: string };
}

t.test('bad input on every endpoint: a 400 problem naming the field, nothing written', async (t) => {
  const deal = await createDeal({ name: 'Invoer Test', signedOn: '2022-01-01', termEndsOn: '2025-01-01' });
  const other = await createDeal({ name: 'Andere Deal' });
  const partner = await post(`/deals/${deal.id}/partners`, {
    name: 'P',
    type: 'company',
    joinedOn: '2022-06-01',
  });
  const before = await writtenState(service);
  const d = `/deals/${deal.id}`;
  const unknownUuid = '01936a10-0000-7000-8000-000000000000';
  const cases: [string, Parameters<typeof call>[1], string][] = [
    ['list: unknown phase', { url: '/deals?phase=flying' }, 'querystring.phase'],
    ['list: limit 0', { url: '/deals?limit=0' }, 'querystring.limit'],
    ['list: overdue not a boolean', { url: '/deals?overdue=maybe' }, 'querystring.overdue'],
    ['list: negative offset', { url: '/deals?offset=-1' }, 'querystring.offset'],
    ['create: no name', { method: 'POST', url: '/deals', body: { kind: 'city_deal' } }, 'body.name'],
    [
      'create: unknown kind',
      { method: 'POST', url: '/deals', body: { name: 'X', kind: 'metro_deal' } },
      'body.kind',
    ],
    [
      'create: bad slug',
      { method: 'POST', url: '/deals', body: { name: 'X', kind: 'city_deal', slug: 'Bad Slug' } },
      'body.slug',
    ],
    [
      'create: term before signing',
      {
        method: 'POST',
        url: '/deals',
        body: { name: 'X', kind: 'city_deal', signedOn: '2023-01-01', termEndsOn: '2022-01-01' },
      },
      'body.termEndsOn',
    ],
    [
      'create: bad date',
      { method: 'POST', url: '/deals', body: { name: 'X', kind: 'city_deal', signedOn: '2023-02-30' } },
      'body.signedOn',
    ],
    [
      'create: duplicate theme',
      { method: 'POST', url: '/deals', body: { name: 'X', kind: 'city_deal', themes: ['a', 'a'] } },
      'body.themes',
    ],
    [
      'create: name only symbols',
      { method: 'POST', url: '/deals', body: { name: '!!!', kind: 'city_deal' } },
      'body.name',
    ],
    ['edit: nothing given', { method: 'PATCH', url: d, body: {} }, 'body'],
    ['edit: empty name', { method: 'PATCH', url: d, body: { name: ' ' } }, 'body.name'],
    [
      'edit: term before signing',
      { method: 'PATCH', url: d, body: { termEndsOn: '2021-01-01' } },
      'body.termEndsOn',
    ],
    ['edit: bad id', { method: 'PATCH', url: '/deals/not-a-uuid', body: { name: 'X' } }, 'params.id'],
    [
      'edit: bad If-Match',
      { method: 'PATCH', url: d, body: { name: 'X' }, headers: { 'if-match': 'yesterday' } },
      'headers.if-match',
    ],
    ['edit: unknown field', { method: 'PATCH', url: d, body: { phase: 'completed' } }, 'body'],
    [
      'transition: unknown phase',
      { method: 'POST', url: `${d}/transitions`, body: { to: 'flying', reason: 'x' } },
      'body.to',
    ],
    [
      'transition: no reason',
      { method: 'POST', url: `${d}/transitions`, body: { to: 'signed' } },
      'body.reason',
    ],
    [
      'extension: bad date',
      { method: 'POST', url: `${d}/extensions`, body: { termEndsOn: '2030-13-01', reason: 'x' } },
      'body.termEndsOn',
    ],
    [
      'extension: not later',
      { method: 'POST', url: `${d}/extensions`, body: { termEndsOn: '2024-01-01', reason: 'x' } },
      'body.termEndsOn',
    ],
    [
      'tranche: zero',
      { method: 'POST', url: `${d}/tranches`, body: { tranche: 0, startsOn: '2023-01-01' } },
      'body.tranche',
    ],
    [
      'tranche: bad date',
      { method: 'POST', url: `${d}/tranches`, body: { tranche: 1, startsOn: 'soon' } },
      'body.startsOn',
    ],
    [
      'person: bad email',
      { method: 'POST', url: `${d}/people`, body: { name: 'A', role: 'dealmaker', email: 'nope' } },
      'body.email',
    ],
    [
      'person: unknown role',
      { method: 'POST', url: `${d}/people`, body: { name: 'A', role: 'boss', email: 'a@example.org' } },
      'body.role',
    ],
    ['person remove: bad id', { method: 'DELETE', url: `${d}/people/42` }, 'params.personId'],
    [
      'partner: unknown type',
      { method: 'POST', url: `${d}/partners`, body: { name: 'P', type: 'guild', joinedOn: '2023-01-01' } },
      'body.type',
    ],
    [
      'partner: no date',
      { method: 'POST', url: `${d}/partners`, body: { name: 'P', type: 'bank' } },
      'body.joinedOn',
    ],
    [
      'partner leave: before joining',
      {
        method: 'POST',
        url: `${d}/partners/${partner.body.partner.id}/leave`,
        body: { leftOn: '2022-01-01' },
      },
      'body.leftOn',
    ],
    [
      'partner leave: bad id',
      { method: 'POST', url: `${d}/partners/x/leave`, body: { leftOn: '2023-01-01' } },
      'params.partnerId',
    ],
    ['result: empty title', { method: 'POST', url: `${d}/results`, body: { title: '' } }, 'body.title'],
    [
      'result: bad date',
      { method: 'POST', url: `${d}/results`, body: { title: 'T', achievedOn: '1-1-2024' } },
      'body.achievedOn',
    ],
    [
      'lesson: unknown kind',
      { method: 'POST', url: `${d}/lessons`, body: { kind: 'meh', text: 'x' } },
      'body.kind',
    ],
    [
      'lesson: bad meeting id',
      { method: 'POST', url: `${d}/lessons`, body: { kind: 'success', text: 'x', meetingId: 'm1' } },
      'body.meetingId',
    ],
    [
      'link: itself',
      { method: 'POST', url: `${d}/links`, body: { otherDealId: deal.id } },
      'body.otherDealId',
    ],
    [
      'link: unknown deal',
      { method: 'POST', url: `${d}/links`, body: { otherDealId: unknownUuid } },
      'body.otherDealId',
    ],
    [
      'link: not an id',
      { method: 'POST', url: `${d}/links`, body: { otherDealId: 'andere-deal' } },
      'body.otherDealId',
    ],
    ['history: bad id', { url: '/deals/x/history' }, 'params.id'],
    ['feed: negative cursor', { url: '/changes?after=-1' }, 'querystring.after'],
    ['feed: limit too large', { url: '/changes?limit=5000' }, 'querystring.limit'],
  ];
  for (const [name, request, field] of cases) {
    const res = await call(service, request);
    t.equal(res.status, 400, `${name}: 400`);
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${name}: problem+json`);
    t.ok(
      res.body?.errors?.some((e: { field: string }) => e.field === field),
      `${name}: names ${field} (got ${JSON.stringify(res.body?.errors)})`,
    );
  }
  t.same(await writtenState(service), before, 'nothing was written');
  t.equal((await get(`/deals/${other.id}`)).body.version, 1);
  t.equal(
    (await call(service, { method: 'POST', url: `/deals/${unknownUuid}/results`, body: { title: 'x' } }))
      .status,
    404,
  );
});

t.test('auth: writes need an admin key, reads a read (or admin) key', async (t) => {
  const deal = await createDeal({ name: 'Auth Deal' });
  const before = await writtenState(service);
  const anonymous = await service.http.inject({
    method: 'POST',
    url: `/deals/${deal.id}/transitions`,
    payload: { to: 'signed', reason: 'x' },
  });
  t.equal(anonymous.statusCode, 401);
  const badBody = await service.http.inject({ method: 'POST', url: '/deals', payload: { nope: 1 } });
  t.equal(badBody.statusCode, 401, 'authentication comes before validation');
  const readOnly = await call(service, {
    method: 'PATCH',
    url: `/deals/${deal.id}`,
    body: { name: 'Y' },
    headers: readHeaders,
  });
  t.equal(readOnly.status, 403);
  t.same(await writtenState(service), before);
  for (const url of ['/deals', `/deals/${deal.id}`, `/deals/${deal.id}/history`, '/changes']) {
    t.equal((await service.http.inject({ url })).statusCode, 401, `${url} without a key`);
    t.equal((await get(url, readHeaders)).status, 200, `${url} with the read key`);
  }
});

t.test(
  'the OpenAPI document describes every route with tags, summary, description and examples',
  async (t) => {
    const doc = (await service.http.inject('/openapi.json')).json();
    const ours = Object.entries(doc.paths as Record<string, Record<string, any>>).filter(
      ([path]) => path.startsWith('/deals') || path === '/changes',
    );
    t.equal(ours.length, 14);
    for (const [path, operations] of ours) {
      for (const [method, op] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path}`;
        t.ok(op.tags?.length && op.summary && op.description, `${name}: tags, summary, description`);
        t.same(op.security, [{ adminKey: [] }], `${name}: needs a key`);
        const body = op.requestBody?.content?.['application/json']?.schema;
        if (body) t.ok(body.example, `${name}: body example`);
        const ok = Object.entries(op.responses).find(([status]) => status.startsWith('2'));
        t.ok(ok, `${name}: a success response`);
        t.ok(op.responses['400'], `${name}: documents its 400 problem`);
      }
    }
  },
);

t.test(
  'each change published exactly one event, with the deal’s version, matching the history',
  async (t) => {
    await checkEachChangePublishedOnce(t, service);
  },
);
