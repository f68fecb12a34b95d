import { eventually } from '@citydeals/testkit';
import type { Test } from 'tap';
import { type Load, prepareLoad } from './load.ts';
import type { System } from './system.ts';
import type { DealChangeOp, RegistrationOp } from './workload.ts';
import {
  classifyDeliveries,
  classifyMails,
  resolveFromDatabase,
  summary,
  waitForEffects,
} from './workload.ts';

export interface OutageFigures {
  operations: number;
  committed: number;
  /** Operations whose answer was lost or a 5xx. */
  failedDuringOutage: number;
  /** Of those, committed after all (found in the database). */
  failedButCommitted: number;
  mails: number;
  deliveries: number;
  resentMails: number;
  resentDeliveries: number;
  seconds: number;
}

/**
 * Runs a load of registrations and deal changes (webhook endpoint subscribed), one request per operation,
 * and calls `fault` in the middle; `fault` must leave the broken piece healed. The services are never
 * restarted: they must become ready again by themselves. Afterwards every operation without a definite
 * answer is resolved from the database, and every committed one must have exactly one effect; the others
 * none. May run several times on one system (one fault after another), each round on a meeting and deals
 * of its own.
 */
export async function loadThroughOutage(
  t: Test,
  system: System,
  fault: (load: Load) => Promise<void>,
  opsAroundFault = Number(process.env.FAULTS_OPS_PER_PHASE ?? 40),
): Promise<OutageFigures> {
  const started = Date.now();
  const mailsBefore = system.mail.received.length;
  const deliveriesBefore = system.hooks.received.length;
  const load = await prepareLoad(system, { attempts: 'once' });
  load.start();
  try {
    await load.progress(opsAroundFault, 180_000, 'committed');
    await fault(load);
    const ready = await everyServiceReady(system, 90_000);
    t.same(ready, [], 'every service is ready again by itself');
    await load.progress(opsAroundFault, 180_000, 'committed');
  } finally {
    await load.stop();
  }
  t.same(load.errors, [], 'the load ran without errors of its own');
  try {
    await system.drain(180_000);
  } catch (err) {
    const mails = await system.query(
      `select id, kind, status, attempts, next_attempt_at, last_error from notification.email where status <> 'sent'`,
    );
    t.comment(`mails not sent: ${JSON.stringify(mails)}`);
    for (const p of system.all()) t.comment(`${p.service}#${p.replica} log tail:\n${p.output()}`);
    throw err;
  }

  const registrations = load.registrations;
  const changes = load.dealChanges;
  const all = [...registrations, ...changes];
  const failed = all.filter((op) => op.outcome === 'unknown');
  const contradicted = await resolveFromDatabase(system, registrations, changes);
  t.same(contradicted, [], 'every definite answer agrees with the database');
  t.same(
    all.filter((op) => op.outcome === 'rejected').map((op) => `${op.kind} ${op.id}: ${op.answer}`),
    [],
    'no operation rejected (every request is valid)',
  );
  t.ok(
    registrations.every((r) => r.outcome !== 'committed' || r.status === 'confirmed'),
    'every committed registration confirmed (capacity is ample)',
  );

  const mails = await waitForEffects(() =>
    classifyMails(registrations, system.mail.received, ['registration_confirmed']),
  );
  const hooks = await waitForEffects(() => classifyDeliveries(changes, system.hooks.received));
  const figures: OutageFigures = {
    operations: all.length,
    committed: all.filter((op) => op.outcome === 'committed').length,
    failedDuringOutage: failed.length,
    failedButCommitted: failed.filter((op) => op.outcome === 'committed').length,
    mails: system.mail.received.slice(mailsBefore).filter((m) => m.kind === 'registration_confirmed').length,
    deliveries: system.hooks.received
      .slice(deliveriesBefore)
      .filter((d) => d.eventType.endsWith('deal.updated.v1')).length,
    resentMails: mails.resent,
    resentDeliveries: hooks.resent,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  t.comment(summary('confirmation mails', mails));
  t.comment(summary('webhook deliveries of deal changes', hooks));
  t.comment(`figures: ${JSON.stringify(figures)}`);

  if (hooks.lost.length > 0)
    t.comment(`lost deal changes: ${await traceDealChanges(system, changes, hooks.lost)}`);
  if (mails.lost.length > 0) t.comment(`lost registrations: ${mails.lost.join(', ')}`);

  const mutated = countingCatchesMutations(registrations, changes, system);
  t.same(
    mutated,
    { mails: [1, 1], deliveries: [1, 1] },
    'the count catches one effect dropped and one doubled',
  );
  t.same(mails.lost, [], 'no committed registration without its confirmation mail');
  t.same(mails.duplicated, [], 'no registration with two different confirmation mails');
  t.same(hooks.lost, [], 'no committed deal change without its webhook delivery');
  t.same(hooks.duplicated, [], 'no deal change delivered as two different messages');

  const committedAddresses = new Set(
    registrations.filter((r) => r.outcome === 'committed').map((r) => r.email.toLowerCase()),
  );
  t.same(
    system.mail.received
      .slice(mailsBefore)
      .filter((m) => !committedAddresses.has(m.to))
      .map((m) => `${m.kind} to ${m.to}`),
    [],
    'no mail to a stranger or to a registration that did not commit',
  );
  const absentSummaries = changes.filter((c) => c.outcome === 'absent').map((c) => c.summary);
  t.same(
    system.hooks.received
      .filter((d) => absentSummaries.some((s) => d.body.includes(s)))
      .map((d) => d.webhookId),
    [],
    'no webhook for a deal change that did not commit',
  );
  t.same(
    system
      .all()
      .filter((p) => p.starts !== 1 || !p.running)
      .map((p) => `${p.service}#${p.replica} starts=${p.starts} running=${p.running}`),
    [],
    'no service was restarted, and all still run',
  );
  return figures;
}

/**
 * Runs the same classification on the recorded effects with one committed operation's effect removed and
 * another's sent a second time as a different message: [lost, duplicated] must both be 1, or the count
 * would not notice a broken guarantee.
 */
export function countingCatchesMutations(
  registrations: RegistrationOp[],
  changes: DealChangeOp[],
  system: System,
): { mails: [number, number]; deliveries: [number, number] } {
  const confirmations = system.mail.received.filter((m) => m.kind === 'registration_confirmed');
  const committed = registrations.filter((r) => r.outcome === 'committed').map((r) => r.email.toLowerCase());
  const [dropTo, doubleTo] = committed;
  const mails = confirmations.filter((m) => m.to !== dropTo);
  const twin = mails.find((m) => m.to === doubleTo);
  if (twin) mails.push({ ...twin, messageId: `<twin-${twin.messageId}>` });
  const m = classifyMails(registrations, mails, ['registration_confirmed']);

  const done = changes.filter((c) => c.outcome === 'committed');
  const [dropChange, doubleChange] = done;
  const key = (c: DealChangeOp | undefined) => `${c?.dealId}@${c?.version}`;
  const hooks = system.hooks.received.filter((d) => `${d.dealId}@${d.version}` !== key(dropChange));
  const hookTwin = hooks.find((d) => `${d.dealId}@${d.version}` === key(doubleChange));
  if (hookTwin)
    hooks.push({ ...hookTwin, eventId: `twin-${hookTwin.eventId}`, webhookId: `twin-${hookTwin.webhookId}` });
  const d = classifyDeliveries(changes, hooks);
  return { mails: [m.lost.length, m.duplicated.length], deliveries: [d.lost.length, d.duplicated.length] };
}

/** Where each of these deal changes' event got to: change row, outbox, notification inbox, webhook message. */
async function traceDealChanges(system: System, changes: DealChangeOp[], ids: string[]): Promise<string> {
  const lines: string[] = [];
  for (const op of changes.filter((c) => ids.includes(c.id))) {
    const [change] = await system.query(
      'select event_id, version from deal_tracking.deal_change where deal_id = $1 and version = $2',
      [op.dealId, op.version],
    );
    const eventId = change?.event_id;
    const outbox = await system.query(
      'select id, published_at from deal_tracking.outbox where event_id = $1',
      [eventId],
    );
    const inbox = await system.query(
      'select consumer, processed_at from notification.inbox where event_id = $1',
      [eventId],
    );
    const messages = await system.query(
      'select status, attempts, deal_version, last_status_code, last_error from notification.webhook_message where event_id = $1',
      [eventId],
    );
    const dead = await system.query(
      'select consumer, error from notification.dead_letter where event_id = $1',
      [String(eventId)],
    );
    lines.push(
      JSON.stringify({
        op: op.id,
        deal: op.dealId,
        version: op.version,
        answer: op.answer,
        eventId,
        outbox,
        inbox,
        messages,
        dead,
      }),
    );
  }
  return lines.join('\n');
}

/** Services not ready (after the timeout); empty when all are. */
export async function everyServiceReady(system: System, timeoutMs: number): Promise<string[]> {
  const notReady = async () => {
    const waiting: string[] = [];
    for (const p of system.all()) {
      const res = await fetch(`${p.url}/health/ready`, { signal: AbortSignal.timeout(2_000) }).catch(
        () => undefined,
      );
      if (res?.status !== 200) waiting.push(`${p.service}#${p.replica}: ${res?.status ?? 'no answer'}`);
    }
    return waiting;
  };
  return (
    (await eventually(async () => ((await notReady()).length === 0 ? [] : undefined), timeoutMs, 250)) ??
    notReady()
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
