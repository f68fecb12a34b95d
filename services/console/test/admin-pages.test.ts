// People, machine keys and deliveries over HTTP: what each page does at the services, as the person, and
// that every role without the right is refused with nothing changed. The browser test of the same pages is
// admin-browser.test.ts.
import { attendeeRegistered, meetingScheduled } from '@citydeals/contracts';
import { Injector } from '@citydeals/fault-suite';
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { listAudit } from '../src/audit/audit.repository.ts';
import { adminAuth, PASSWORD, people, type Role, startConsoleSystem, Visitor } from './harness.ts';

// Services as processes on a shared 2-core machine: far slower than tap's default limit.
t.setTimeout(600_000);

const stack = await startConsoleSystem(
  {},
  {
    notification: {
      CONSUMER_MAX_DELIVERIES: '2',
      CONSUMER_RETRY_INITIAL_MS: '50',
      CONSUMER_RETRY_MAX_MS: '100',
    },
  },
);
t.teardown(() => stack.close());
const { system } = stack;
const db = stack.console.ctx.db;
const services = ['registration', 'deal_tracking', 'notification'] as const;

const loggedIn = async (role: Role) => {
  const visitor = new Visitor(stack.url);
  const login = await visitor.login(people[role].email);
  if (login.status !== 303) throw new Error(`login as ${role}: ${login.status}`);
  return visitor;
};
const secretOn = (page: string) => /<code class="secret">([^<]+)<\/code>/.exec(page)?.[1];
const withKey = (key: string) => ({ authorization: `Bearer ${key}` });
/** A call that a read key may make at deal-tracking, and an admin-only call at each service. */
const probe = async (key: string) => ({
  deals: (await system.call('deal_tracking', 'GET', '/deals?limit=1', { headers: withKey(key) })).status,
  registration: (await system.call('registration', 'GET', '/admin/dead-letters', { headers: withKey(key) }))
    .status,
  notification: (await system.call('notification', 'GET', '/admin/dead-letters', { headers: withKey(key) }))
    .status,
});
const serviceKeys = async (service: (typeof services)[number]) =>
  (await system.call(service, 'GET', '/admin/api-keys', { headers: adminAuth })).body.items as {
    id: number;
    name: string;
    createdBy: string;
    revokedAt: string | null;
    revokedBy: string | null;
  }[];
const bea = `staff:${people.beheerder.name} <${people.beheerder.email}>`;

t.test('a machine key: issued once, one key at all three services, revoked everywhere at once', async (t) => {
  const visitor = await loggedIn('beheerder');
  const issued = await visitor.submit('/keys', '/keys', {
    system: 'dashboard',
    label: 'Dashboard 2027',
    scope: 'read',
  });
  t.equal(issued.status, 201);
  const key = secretOn(issued.text)!;
  t.match(key, /^cdk_[A-Za-z0-9_-]{43}$/, 'the key is shown once');
  t.notMatch((await visitor.get('/keys')).text, key, 'and never again');
  const row = await db.selectFrom('machine_key').selectAll().executeTakeFirstOrThrow();
  t.notMatch(JSON.stringify(row), key.slice(4), 'the console keeps no copy of the key');
  t.same(Object.keys(row.service_keys).sort(), ['dealTracking', 'notification', 'registration']);

  t.same(
    await probe(key),
    { deals: 200, registration: 403, notification: 403 },
    'known at all three; read only',
  );
  for (const service of services) {
    const there = (await serviceKeys(service)).find((k) => k.name.includes('Dashboard 2027'));
    t.equal(there?.createdBy, bea, `${service} records the person who issued it`);
  }
  const page = await visitor.get('/keys');
  t.notMatch(page.text.split(`data-key="${row.id}"`)[1]?.split('</tr>')[0], /nooit/, 'its last use is shown');

  const revoked = await visitor.submit('/keys', `/keys/${row.id}/revoke`, {});
  t.equal(revoked.status, 200);
  t.match(revoked.text, /ingetrokken bij alle diensten/);
  t.same(
    await probe(key),
    { deals: 401, registration: 401, notification: 401 },
    'refused by all three at once',
  );
  for (const service of services) {
    const there = (await serviceKeys(service)).find((k) => k.name.includes('Dashboard 2027'));
    t.equal(there?.revokedBy, bea, `${service} records who revoked it`);
  }
  const trail = await listAudit(db, 30);
  t.ok(
    trail.some(
      (e) => e.action === 'key.issue' && e.outcome === 'ok' && e.who.includes(people.beheerder.name),
    ),
  );
  t.ok(
    trail.some(
      (e) => e.action === 'key.revoke' && e.outcome === 'ok' && e.target === `machine-key:${row.id}`,
    ),
  );
});

t.test(
  'people: add with a one-time password, change the role, disable; the last beheerder stays',
  async (t) => {
    const visitor = await loggedIn('beheerder');
    const added = await visitor.submit('/people', '/people', {
      name: 'Nina Nieuw',
      email: 'Nina@Programmabureau.example.nl',
      role: 'lezer',
    });
    t.equal(added.status, 201);
    const password = secretOn(added.text)!;
    t.ok(password && password.length >= 20, 'a generated password, shown once');
    const nina = await db
      .selectFrom('staff_account')
      .selectAll()
      .where('email', '=', 'nina@programmabureau.example.nl')
      .executeTakeFirstOrThrow();
    t.notMatch(nina.password_hash, password, 'stored as a hash');
    const ninaVisitor = new Visitor(stack.url);
    t.equal((await ninaVisitor.login(nina.email, password)).status, 303, 'the new person logs in');
    t.equal((await ninaVisitor.get('/deals')).status, 200);

    const twice = await visitor.submit('/people', '/people', {
      name: 'Nina',
      email: nina.email,
      role: 'lezer',
    });
    t.equal(twice.status, 409, 'one account per address');
    const bad = await visitor.submit('/people', '/people', { name: '', email: 'geen adres', role: 'baas' });
    t.equal(bad.status, 400);
    t.match(bad.text, /email/);

    t.equal((await visitor.submit('/people', `/people/${nina.id}/role`, { role: 'redacteur' })).status, 200);
    t.equal(
      (await db.selectFrom('staff_account').select('role').where('id', '=', nina.id).executeTakeFirst())
        ?.role,
      'redacteur',
    );

    t.equal((await visitor.submit('/people', `/people/${nina.id}/disable`, {})).status, 200);
    t.equal((await ninaVisitor.get('/deals')).status, 303, 'a disabled person’s session ends at once');
    t.equal((await new Visitor(stack.url).login(nina.email, password)).status, 401, 'and cannot log in');

    const beaId = (
      await db
        .selectFrom('staff_account')
        .select('id')
        .where('email', '=', people.beheerder.email)
        .executeTakeFirstOrThrow()
    ).id;
    const demote = await visitor.submit('/people', `/people/${beaId}/role`, { role: 'lezer' });
    t.equal(demote.status, 409, 'the last active beheerder cannot be demoted');
    t.match(demote.text, /laatste actieve beheerder/);
    t.equal(
      (await visitor.submit('/people', `/people/${beaId}/disable`, {})).status,
      409,
      'nor disable themselves',
    );
    t.equal(
      (await db.selectFrom('staff_account').select('role').where('id', '=', beaId).executeTakeFirst())?.role,
      'beheerder',
    );
    const trail = await listAudit(db, 30);
    for (const action of ['account.create', 'account.role', 'account.disable'])
      t.ok(
        trail.some((e) => e.action === action && e.outcome === 'ok'),
        `${action} is audited`,
      );
    t.ok(
      trail.some((e) => e.action === 'account.role' && e.outcome === 'refused'),
      'and the refusal too',
    );
  },
);

let endpointId = '';
t.test('webhooks: create, test send, rotate the secret, replay, disable — as the person', async (t) => {
  const visitor = await loggedIn('beheerder');
  const created = await visitor.submit('/deliveries', '/deliveries/webhooks', {
    url: system.hooks.url,
    description: 'Evaluatie-ontvanger',
    eventType: 'deal_tracking.deal.phase_changed',
  });
  t.equal(created.status, 201);
  const secret = secretOn(created.text)!;
  t.match(secret, /^whsec_/, 'the signing secret is shown once');
  const list = await system.call('notification', 'GET', '/webhooks/endpoints', { headers: adminAuth });
  endpointId = list.body.items.find(
    (e: { description: string }) => e.description === 'Evaluatie-ontvanger',
  ).id;
  const { rows } = await system.db.query(
    `select created_by from ${await notificationSchema()}.webhook_endpoint where id = $1`,
    [endpointId],
  );
  t.equal(rows[0].created_by, bea, 'notification records the person who created it');

  const test = await visitor.submit(
    `/deliveries/webhooks/${endpointId}`,
    `/deliveries/webhooks/${endpointId}/test`,
    {},
  );
  t.equal(test.status, 202);
  const delivered = await eventually(
    async () =>
      system.hooks.received.find((d) => d.eventType === 'nl.citydeals.notification.webhook.test.v1'),
    30_000,
  );
  t.ok(delivered, 'the receiver got the test message');
  const messageId = /action="\/deliveries\/messages\/([^/]+)\/retry"/.exec(test.text)![1]!;
  await eventually(
    async () =>
      /id="message-status">afgeleverd/.test((await visitor.get(`/deliveries/messages/${messageId}`)).text),
    30_000,
  );
  const messagePage = await visitor.get(`/deliveries/messages/${messageId}`);
  t.match(messagePage.text, /<td>204<\/td>/, 'its attempt with the receiver’s answer');

  const rotated = await visitor.submit(
    `/deliveries/webhooks/${endpointId}`,
    `/deliveries/webhooks/${endpointId}/rotate-secret`,
    {},
  );
  t.equal(rotated.status, 200);
  const fresh = secretOn(rotated.text);
  t.match(fresh, /^whsec_/);
  t.not(fresh, secret, 'a new secret');

  const since = new Date(Date.now() - 3600_000).toISOString().slice(0, 16);
  const replay = await visitor.submit(
    `/deliveries/webhooks/${endpointId}`,
    `/deliveries/webhooks/${endpointId}/replay`,
    {
      since,
    },
  );
  t.equal(replay.status, 200);
  t.match(replay.text, /1 berichten staan klaar/, 'the test message is queued again');
  await eventually(
    async () => system.hooks.received.filter((d) => d.webhookId === delivered!.webhookId).length >= 2,
    30_000,
  );

  const off = await visitor.submit(
    `/deliveries/webhooks/${endpointId}`,
    `/deliveries/webhooks/${endpointId}/disable`,
    {},
  );
  t.equal(off.status, 200);
  const endpoint = await system.call('notification', 'GET', `/webhooks/endpoints/${endpointId}`, {
    headers: adminAuth,
  });
  t.match(endpoint.body, { status: 'disabled', disabledReason: 'manual' });
  const refused = await visitor.submit(
    `/deliveries/webhooks/${endpointId}`,
    `/deliveries/webhooks/${endpointId}/test`,
    {},
  );
  t.equal(refused.status, 409, 'no test to a disabled endpoint');
  t.equal(
    (
      await visitor.submit(
        `/deliveries/webhooks/${endpointId}`,
        `/deliveries/webhooks/${endpointId}/enable`,
        {},
      )
    ).status,
    200,
  );

  const trail = await listAudit(db, 40);
  for (const action of [
    'webhook.create',
    'webhook.test',
    'webhook.rotate-secret',
    'webhook.replay',
    'webhook.disable',
  ])
    t.ok(
      trail.some((e) => e.action === action && e.outcome === 'ok' && e.who.includes(people.beheerder.name)),
      `${action} audited`,
    );
});

async function notificationSchema() {
  const { rows } = await system.db.query(
    "select table_schema from information_schema.tables where table_name = 'webhook_endpoint' limit 1",
  );
  return rows[0].table_schema as string;
}

t.test('the mail log per meeting and per person', async (t) => {
  const visitor = await loggedIn('redacteur');
  const meetings = await system.call('registration', 'GET', '/meetings', {});
  const meeting = meetings.body.items[0];
  const email = 'mailtest.persoon@gemeente.example.nl';
  const registered = await system.call('registration', 'POST', `/meetings/${meeting.id}/registrations`, {
    body: { name: 'Mees Mail', email, organisation: 'Gemeente Proef', role: 'projectleider' },
  });
  t.equal(registered.status, 201);
  await eventually(async () => system.mail.received.some((m) => m.to === email), 30_000);
  const perPerson = await eventually(async () => {
    const page = await visitor.get(`/deliveries/mails?recipient=${encodeURIComponent(email)}`);
    return /verstuurd/.test(page.text) ? page : undefined;
  }, 30_000);
  t.match(perPerson!.text, email);
  t.notMatch(perPerson!.text, /yara|anna/i, 'only that person’s mails');
  const perMeeting = await visitor.get(`/deliveries/mails?meetingId=${meeting.id}`);
  t.match(perMeeting.text, email, 'and in the meeting’s log');
  const other = await system.call('registration', 'GET', '/admin/meetings', { headers: adminAuth });
  const elsewhere = other.body.items.find((m: { id: string }) => m.id !== meeting.id);
  if (elsewhere) t.notMatch((await visitor.get(`/deliveries/mails?meetingId=${elsewhere.id}`)).text, email);
});

t.test('dead letters: listed per service, retried from the console after the cause is fixed', async (t) => {
  const inject = await Injector.open(system);
  t.teardown(() => inject.close());
  const meetingId = crypto.randomUUID();
  const registrationId = crypto.randomUUID();
  const envelope = (type: string, subject: string, data: unknown) =>
    JSON.stringify({
      specversion: '1.0',
      id: crypto.randomUUID(),
      source: '/registration',
      type,
      subject,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data,
    });
  const email = `dl-${registrationId.slice(0, 8)}@gemeente.example.nl`;
  // A registration for a meeting notification never heard of: its handler fails until the meeting arrives.
  await inject.raw(
    attendeeRegistered.subject,
    envelope(attendeeRegistered.type, registrationId, {
      ...attendeeRegistered.example,
      registrationId,
      meetingId,
      email,
      language: 'nl',
    }),
  );
  const visitor = await loggedIn('redacteur');
  const listed = await eventually(async () => {
    const page = await visitor.get('/deliveries/dead-letters');
    const id = /\/deliveries\/dead-letters\/notification\/(\d+)\/retry/.exec(page.text)?.[1];
    return id ? { page, id } : undefined;
  }, 60_000);
  t.ok(listed, 'the dead letter is listed under notification');
  const still = await visitor.submit(
    '/deliveries/dead-letters',
    `/deliveries/dead-letters/notification/${listed!.id}/retry`,
    {},
  );
  t.equal(still.status, 409, 'retried before the fix: still failing, and the page says so');
  t.match(still.text, /Lukt nog steeds niet/);

  const startsAt = new Date(Date.now() + 20 * 86_400_000);
  await inject.raw(
    meetingScheduled.subject,
    envelope(meetingScheduled.type, meetingId, {
      ...meetingScheduled.example,
      meetingId,
      slug: `dl-${meetingId.slice(-8)}`,
      language: 'nl',
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 3600_000).toISOString(),
    }),
  );
  const resolved = await eventually(async () => {
    const answer = await visitor.submit(
      '/deliveries/dead-letters',
      `/deliveries/dead-letters/notification/${listed!.id}/retry`,
      {},
    );
    return answer.status === 200 ? answer : undefined;
  }, 30_000);
  t.match(resolved!.text, /Opgelost/);
  await eventually(async () => system.mail.received.some((m) => m.to === email), 30_000);
  t.pass('the retried registration got its mail');
  const trail = await listAudit(db, 40);
  t.ok(
    trail.some(
      (e) => e.action === 'dead-letter.retry' && e.outcome === 'ok' && e.who.includes(people.redacteur.name),
    ),
  );
});

t.test('each role is refused every page and action it may not use, and nothing changes', async (t) => {
  const admin = await loggedIn('beheerder');
  const issued = await admin.submit('/keys', '/keys', {
    system: 'website',
    label: 'Rollentest',
    scope: 'read',
  });
  const key = secretOn(issued.text)!;
  const keyRow = await db
    .selectFrom('machine_key')
    .select('id')
    .where('label', '=', 'Rollentest')
    .executeTakeFirstOrThrow();
  const lex = await db
    .selectFrom('staff_account')
    .selectAll()
    .where('email', '=', people.lezer.email)
    .executeTakeFirstOrThrow();
  const snapshot = async () => ({
    accounts: await db
      .selectFrom('staff_account')
      .select(['id', 'role', 'disabled_at'])
      .orderBy('id')
      .execute(),
    keys: await db.selectFrom('machine_key').select(['id', 'revoked_at']).orderBy('id').execute(),
    key: await probe(key),
    endpoints: (await system.call('notification', 'GET', '/webhooks/endpoints', { headers: adminAuth })).body
      .items,
    hooks: system.hooks.received.length,
  });
  const before = await snapshot();
  const gets = [
    '/people',
    '/keys',
    '/deliveries',
    '/deliveries/mails',
    '/deliveries/dead-letters',
    `/deliveries/webhooks/${endpointId}`,
  ];
  const peopleAndKeys: [string, Record<string, string>][] = [
    ['/people', { name: 'Indringer', email: 'x@example.nl', role: 'beheerder' }],
    [`/people/${lex.id}/role`, { role: 'beheerder' }],
    [`/people/${lex.id}/disable`, {}],
    ['/keys', { system: 'website', label: 'mag niet', scope: 'admin' }],
    [`/keys/${keyRow.id}/revoke`, {}],
  ];
  const manageWebhooks: [string, Record<string, string>][] = [
    ['/deliveries/webhooks', { url: 'https://example.org/hook', eventType: '*' }],
    [`/deliveries/webhooks/${endpointId}/disable`, {}],
    [`/deliveries/webhooks/${endpointId}/rotate-secret`, {}],
  ];
  const operateDeliveries: [string, Record<string, string>][] = [
    [`/deliveries/webhooks/${endpointId}/test`, {}],
    [`/deliveries/webhooks/${endpointId}/replay`, { since: '2026-01-01T00:00' }],
    ['/deliveries/dead-letters/notification/1/retry', {}],
  ];
  const refusals: Record<
    Exclude<Role, 'beheerder'>,
    { gets: string[]; posts: [string, Record<string, string>][] }
  > = {
    redacteur: { gets: ['/people', '/keys'], posts: [...peopleAndKeys, ...manageWebhooks] },
    lezer: { gets, posts: [...peopleAndKeys, ...manageWebhooks, ...operateDeliveries] },
    deur: { gets, posts: [...peopleAndKeys, ...manageWebhooks, ...operateDeliveries] },
  };
  for (const [role, tried] of Object.entries(refusals)) {
    const visitor = await loggedIn(role as Role);
    // A token of the person's own session: the refusal is the role's, not a missing CSRF token.
    const home = role === 'deur' ? '/door' : '/deals';
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await visitor.get(home)).text)![1]!;
    for (const path of tried.gets)
      t.equal((await visitor.get(path)).status, 403, `${role}: GET ${path} refused`);
    for (const [path, form] of tried.posts)
      t.equal(
        (await visitor.request('POST', path, { ...form, _csrf: csrf })).status,
        403,
        `${role}: POST ${path} refused`,
      );
  }
  t.same(
    await snapshot(),
    before,
    'nothing changed: accounts, keys, the key’s validity, endpoints, messages',
  );
  const refusedInTrail = (await listAudit(db, 200)).filter(
    (e) => e.outcome === 'refused' && (e.detail as { why?: string })?.why === 'role',
  );
  t.ok(refusedInTrail.length >= 30, 'every refusal is in the audit trail');
  const redacteurCanOperate = await loggedIn('redacteur');
  t.equal((await redacteurCanOperate.get('/deliveries')).status, 200, 'a redacteur sees deliveries');
  t.notMatch(
    (await redacteurCanOperate.get('/deliveries')).text,
    /action="\/deliveries\/webhooks"/,
    'without the create form',
  );
  t.equal(
    (await new Visitor(stack.url).login(people.lezer.email, PASSWORD)).status,
    303,
    'the lezer is still a lezer',
  );
});
