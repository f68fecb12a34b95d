/**
 * The CI subset of the fault suite (no faults injected, so it is fast): the three services as separate
 * processes, then (e) erasure leaves the person in no table of any schema and in no message of any stream,
 * and (d) every operation of every OpenAPI document fuzzed: no 5xx, rejected requests write nothing,
 * oversized bodies 413, missing or wrong keys 401, a read-only key 403 on writes.
 */
import { randomBytes } from 'node:crypto';
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import {
  committedSince,
  exampleOf,
  type FuzzTally,
  fuzzOperation,
  loadOperations,
  mustBeProtected,
  nextXid,
  nulProbes,
  READ_KEY,
  rowCounts,
  settleXid,
  validPath,
  WRONG_KEY,
} from '../src/abuse.ts';
import { addressOccurrences, streamOccurrences } from '../src/erasure.ts';
import { adminAuth, type ServiceKey, System, serviceKeys } from '../src/system.ts';
import { createDeal, createMeeting, personFor, registerOnce, subscribeWebhooks } from '../src/workload.ts';

// Registration and deal-tracking name an erased person by the keyed digest of their address.
const DIGEST_KEY = randomBytes(32).toString('base64');

// 6 per operation in CI (about 500 requests); `npm run test:faults` runs 30 (faults/abuse.fault.ts).
const runs = Number(process.env.FAULTS_FUZZ_RUNS ?? 6);

// An own Postgres cluster: the fuzz check reads the cluster-wide transaction counter, which nobody
// else may move. Autovacuum off for the same reason (an ANALYZE takes a transaction id).
// Webhook retries end within seconds, so an endpoint the fuzz points elsewhere does not keep writing.
// The meeting feed announces a change on its next tick: ticking often puts that write inside the settling
// after the accepted request, not in the middle of a later rejected one.
const system = await System.start({
  postgres: 'own',
  env: {
    registration: { PERSON_DIGEST_KEY: DIGEST_KEY, MEETING_FEED_INTERVAL_MS: '100' },
    deal_tracking: { READ_API_KEY: READ_KEY, PERSON_DIGEST_KEY: DIGEST_KEY },
    notification: {
      WEBHOOK_RETRY_SCHEDULE: '100ms,100ms',
      WEBHOOK_ATTEMPT_TIMEOUT: '1s',
      WEBHOOK_ORDER_WAIT_LIMIT: '1s',
    },
  },
});
t.teardown(() => system.close());
await system.query('alter system set autovacuum = off');
await system.query('select pg_reload_conf()');

const deal = await createDeal(system);
const meeting = await createMeeting(system);
const endpoint = await subscribeWebhooks(system);
await system.drain();

t.test('(e) erasure: the person is in no table of any schema nor in any stream afterwards', async (t) => {
  const other = await createMeeting(system);
  const op1 = await registerOnce(system, meeting.id);
  const email = op1.email;
  const { name } = personFor(op1.id);
  const second = await system.call('registration', 'POST', `/meetings/${other.id}/registrations`, {
    body: personFor(op1.id, { dietaryNeeds: 'glutenvrij' }),
  });
  t.equal(second.status, 201, 'the same person registers for a second meeting');
  const token = new URL(second.body.manageUrl).pathname.split('/').at(-1)!;
  const needs = await system.call('registration', 'PATCH', `/registrations/manage/${token}`, {
    body: { accessibilityNeeds: 'ringleiding' },
  });
  t.equal(needs.status, 200, 'and changes their needs');
  const contact = await system.call('deal_tracking', 'POST', `/deals/${deal.id}/people`, {
    body: { name, role: 'dealmaker', email: email.toUpperCase() },
    headers: adminAuth,
  });
  t.equal(contact.status, 201, 'and is a contact of a deal (their address spelled in capitals there)');
  await eventually(
    () =>
      system.mail.received.filter((m) => m.to === email && m.kind === 'registration_confirmed').length === 2,
    30_000,
  );
  await system.drain();
  const before = await addressOccurrences(system, email);
  t.ok(before.length > 0, `before erasure the address is stored in: ${before.join(', ')}`);
  t.ok(
    before.some((table) => table.startsWith('deal_tracking.deal_person')),
    'deal-tracking holds it as a contact',
  );
  const [recipient] = await system.query<{ version: number }>(
    'select version from notification.recipient where registration_id = $1',
    [second.body.registrationId],
  );
  t.equal(
    recipient?.version,
    2,
    'notification applied the needs change as emitted: its copy has no version gap',
  );
  const personal = [email, name, token, 'ringleiding', 'glutenvrij'];
  const inStreams = await streamOccurrences(system, personal);
  t.ok(
    inStreams.some((m) => m.includes('_REGISTRATION#')),
    `before erasure the stream holds the person: ${inStreams.join(', ')}`,
  );

  const erased = await system.call('registration', 'POST', '/admin/erasures', {
    body: { email },
    headers: adminAuth,
  });
  t.equal(erased.status, 200);
  t.equal(erased.body.erasedRegistrationIds.length, 2, 'both registrations erased');
  await system.drain();
  const after = await addressOccurrences(system, email);
  t.same(after, [], 'after erasure and drain, no column of any table in the three schemas holds the address');
  t.same(await addressOccurrences(system, name), [], 'nor the name');
  t.same(
    await streamOccurrences(system, personal),
    [],
    'every message of every stream read back: no address, name, manage link or needs',
  );
  const contacts = await system.call('deal_tracking', 'GET', `/deals/${deal.id}`, { headers: adminAuth });
  t.same(contacts.body.people, [], 'the deal has lost the contact');
  t.comment(
    `erasure: address found in ${before.length} table(s) and ${inStreams.length} message(s) before, ` +
      `${after.length} after`,
  );
});

t.test('(d) abuse: every operation of every OpenAPI document', async (t) => {
  const operations = Object.fromEntries(
    await Promise.all(serviceKeys.map(async (s) => [s, await loadOperations(system, s)] as const)),
  ) as Record<ServiceKey, Awaited<ReturnType<typeof loadOperations>>>;
  const ids: Record<string, string> = {
    id: deal.id,
    messageId: endpoint.id,
    ref: meeting.slug,
    slug: meeting.slug,
  };
  const idsFor = (service: ServiceKey): Record<string, string> =>
    service === 'registration'
      ? { ...ids, id: meeting.id }
      : service === 'notification'
        ? { ...ids, id: endpoint.id }
        : ids;
  const knownIds = [deal.id, meeting.id, meeting.slug, endpoint.id, '1'];
  await system.drain();
  await settleXid(system);

  await t.test('missing or wrong keys: 401; a read-only key: 403 on writes', async (t) => {
    const probe = await nextXid(system);
    const accepted = await system.call('deal_tracking', 'PATCH', `/deals/${deal.id}`, {
      body: { summary: 'the write detector sees this' },
      headers: adminAuth,
    });
    t.equal(accepted.status, 200);
    t.not((await committedSince(system, probe)).length, 0, 'the write detector sees an accepted write');
    await system.drain();
    await settleXid(system);
    let checked = 0;
    const undocumented: string[] = [];
    for (const service of serviceKeys) {
      for (const op of operations[service]) {
        if (!mustBeProtected(service, op)) continue;
        if (!op.secured) undocumented.push(`${service} ${op.method} ${op.path}`);
        const path = validPath(op, idsFor(service));
        const body = op.body ? exampleOf(op.body) : undefined;
        const before = await nextXid(system);
        for (const [label, headers] of [
          ['no key', {}],
          ['wrong key', { authorization: `Bearer ${WRONG_KEY}` }],
          ['malformed header', { authorization: 'Basic Zm9vOmJhcg==' }],
        ] as const) {
          const res = await system.call(service, op.method, path, { body, headers });
          t.equal(res.status, 401, `${service} ${op.method} ${path} with ${label}: 401 (got ${res.status})`);
          checked += 1;
        }
        if (op.body) {
          // Auth comes before validation: a caller without a key learns nothing about the schema.
          const res = await system.call(service, op.method, path, {
            rawBody: '{"not":"valid"}',
            headers: { 'content-type': 'application/json' },
          });
          t.equal(
            res.status,
            401,
            `${service} ${op.method} ${path} with no key and an invalid body: 401 (got ${res.status})`,
          );
          checked += 1;
        }
        t.same(
          await committedSince(system, before),
          [],
          `${service} ${op.method} ${op.path}: refused calls wrote nothing`,
        );
        if (service === 'deal_tracking') {
          const res = await system.call(service, op.method, path, {
            body,
            headers: { authorization: `Bearer ${READ_KEY}` },
          });
          if (op.method === 'GET' && !op.path.startsWith('/admin/')) {
            t.not(res.status, 401, `${op.method} ${path} with the read key is let in`);
            t.not(res.status, 403, `${op.method} ${path} with the read key is let in`);
          } else {
            t.equal(res.status, 403, `${op.method} ${path} with a read-only key: 403 (got ${res.status})`);
            t.same(await committedSince(system, before), [], 'the refused write wrote nothing');
          }
          checked += 1;
        }
      }
    }
    t.comment(`auth: ${checked} refused calls checked`);
    t.same(undocumented, [], 'every protected operation declares its key in the OpenAPI document');
  });

  await t.test(
    'a NUL byte in any path, query, body or form field: 400 naming it, nothing written',
    async (t) => {
      const failures: string[] = [];
      let checked = 0;
      for (const service of serviceKeys) {
        for (const op of operations[service]) {
          for (const probe of nulProbes(op, idsFor(service))) {
            const before = await nextXid(system);
            const res = probe.form
              ? await system.call(service, op.method, probe.path, {
                  rawBody: probe.form,
                  headers: { ...adminAuth, 'content-type': 'application/x-www-form-urlencoded' },
                })
              : await system.call(service, op.method, probe.path, { body: probe.body, headers: adminAuth });
            checked += 1;
            const fields = (res.body?.errors ?? []).map((e: { field: string }) => e.field);
            const label = `${service} ${op.method} ${probe.path}${probe.form ? ' (form)' : ''}`;
            if (res.status !== 400 || !fields.includes(probe.field)) {
              failures.push(`${label}: ${res.status} ${fields.join(',')} (wanted 400 naming ${probe.field})`);
            } else if ((await committedSince(system, before)).length > 0) {
              failures.push(`${label}: 400 but a transaction committed`);
            }
          }
        }
      }
      t.ok(checked > 50, `${checked} NUL probes over the three services`);
      t.same(failures, [], 'every one is a 400 problem naming the field, with nothing written');
    },
  );

  await t.test('oversized bodies: 413, nothing written', async (t) => {
    const huge = { padding: 'x'.repeat(1_100_000) };
    let checked = 0;
    for (const service of serviceKeys) {
      for (const op of operations[service]) {
        if (!op.body) continue;
        const before = await nextXid(system);
        const path = validPath(op, idsFor(service));
        const withKey = await system.call(service, op.method, path, { body: huge, headers: adminAuth });
        t.equal(
          withKey.status,
          413,
          `${service} ${op.method} ${op.path} with 1.1 MB: 413 (got ${withKey.status})`,
        );
        t.same(await committedSince(system, before), [], 'nothing written');
        checked += 1;
      }
    }
    t.comment(`413: ${checked} operations with a body checked`);
  });

  await t.test(`fuzz: ${runs} generated requests per operation, admin key sent`, async (t) => {
    const tally: FuzzTally = {
      requests: 0,
      byStatus: {},
      rejectedWithWrite: [],
      serverErrors: [],
      unsettled: [],
      accepted: 0,
    };
    const countsBefore = await rowCounts(system);
    let seed = 1;
    for (const service of serviceKeys) {
      for (const op of operations[service]) {
        const started = Date.now();
        await fuzzOperation(system, service, op, knownIds, runs, tally, seed++);
        if (process.env.FAULTS_VERBOSE)
          t.comment(`${service} ${op.method} ${op.path}: ${Date.now() - started} ms`);
      }
    }
    const countsAfter = await rowCounts(system);
    t.comment(
      `fuzz: ${tally.requests} requests over ${serviceKeys.reduce((n, s) => n + operations[s].length, 0)} operations; ` +
        `statuses ${JSON.stringify(tally.byStatus)}; accepted writes ${tally.accepted}`,
    );
    t.same(tally.serverErrors, [], 'no 5xx and no dropped connection');
    t.same(tally.unsettled, [], 'every accepted write settled (outboxes relayed, consumers caught up)');
    t.same(tally.rejectedWithWrite, [], 'no rejected request committed a transaction');
    if (tally.accepted === 0)
      t.same(countsAfter, countsBefore, 'row counts unchanged when nothing was accepted');
    for (const p of system.all()) t.ok(p.running, `${p.service} still running after the fuzz`);
  });
});
