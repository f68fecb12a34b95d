import { randomUUID } from 'node:crypto';
import { eventually } from '@citydeals/testkit';
import type { RecordedDelivery, RecordedMail } from './recorders.ts';
import { adminAuth, type System } from './system.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls again while the answer is 0 (connection refused or cut) or 5xx/503: the service is down or restarting. */
export async function callUntilAnswered(
  system: System,
  ...args: Parameters<System['call']>
): Promise<Awaited<ReturnType<System['call']>>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const answer = await system.call(...args);
    if (answer.status !== 0 && answer.status < 500) return answer;
    if (Date.now() > deadline) throw new Error(`${args[1]} ${args[2]}: no answer in 120 s (${answer.text})`);
    await pause(200);
  }
}

export function meetingBody(overrides: Record<string, unknown> = {}) {
  const starts = new Date(Date.now() + 30 * 86_400_000);
  const ends = new Date(starts.getTime() + 4 * 3600_000);
  return {
    title: 'Fault suite meeting',
    slug: `fs-${randomUUID().slice(0, 8)}`,
    description: 'A meeting of the fault suite.',
    startsAt: starts.toISOString(),
    endsAt: ends.toISOString(),
    timeZone: 'Europe/Amsterdam',
    venue: { name: 'Hangar', address: 'Binckhorstlaan 36, Den Haag' },
    capacity: 100_000,
    language: 'en',
    status: 'published',
    ...overrides,
  };
}

export async function createMeeting(system: System, overrides: Record<string, unknown> = {}) {
  const res = await callUntilAnswered(system, 'registration', 'POST', '/admin/meetings', {
    body: meetingBody(overrides),
    headers: adminAuth,
  });
  if (res.status !== 201) throw new Error(`create meeting: ${res.status} ${res.text}`);
  return res.body as { id: string; slug: string; version: number };
}

export async function createDeal(system: System, name = `Deal ${randomUUID().slice(0, 8)}`) {
  const res = await callUntilAnswered(system, 'deal_tracking', 'POST', '/deals', {
    body: { name, kind: 'city_deal', summary: 'created by the fault suite' },
    headers: adminAuth,
  });
  if (res.status !== 201) throw new Error(`create deal: ${res.status} ${res.text}`);
  return res.body as { id: string; version: number; slug: string };
}

export async function subscribeWebhooks(system: System) {
  const res = await callUntilAnswered(system, 'notification', 'POST', '/webhooks/endpoints', {
    body: { url: system.hooks.url, eventTypes: ['*'], description: 'fault suite receiver' },
    headers: adminAuth,
  });
  if (res.status !== 201) throw new Error(`create endpoint: ${res.status} ${res.text}`);
  return res.body as { id: string; secret: string };
}

export function personFor(opId: string, overrides: Record<string, unknown> = {}) {
  return {
    name: `Attendee ${opId.slice(0, 8)}`,
    email: `op-${opId}@faults.example.org`,
    organisation: 'Gemeente Proef',
    role: 'projectleider',
    language: 'en',
    ...overrides,
  };
}

/**
 * committed: the service said 200/201 (or, after a failed answer, the database shows the write);
 * rejected: a 4xx; unknown: no answer or a 5xx, not yet resolved; absent: no answer or a 5xx, and the
 * database shows it did not commit.
 */
export type Outcome = 'committed' | 'rejected' | 'unknown' | 'absent';

/** Operation history: every operation with a unique id, its outcome, and what effect it must have. */
export interface RegistrationOp {
  kind: 'registration';
  id: string;
  email: string;
  meetingId: string;
  outcome: Outcome;
  /** HTTP status of the last attempt; 0 = no answer (refused, cut or timed out). */
  answer?: number;
  /** The outcome was read back from the database because the answer was lost or a 5xx. */
  resolvedFromDatabase?: boolean;
  status?: string;
  registrationId?: string;
  /** When the first request went out and when the last answer came (ms since epoch). */
  startedAt?: number;
  answeredAt?: number;
}

export interface DealChangeOp {
  kind: 'deal-change';
  id: string;
  dealId: string;
  /** The unique summary this change writes; the deal's history is searched for it. */
  summary: string;
  outcome: Outcome;
  answer?: number;
  resolvedFromDatabase?: boolean;
  /** The deal version this change created. */
  version?: number;
  startedAt?: number;
  answeredAt?: number;
}

/** retry: repeat the request while the service is down (kill -9 scenarios); once: one attempt, outcome recorded. */
export type Attempts = 'retry' | 'once';

/**
 * Registers one person; while the service is down it retries the same request, so a registration whose
 * answer was lost in a crash is found again (same address → 200 with the existing registration).
 */
export async function registerOnce(
  system: System,
  meetingId: string,
  replicas = 1,
  attempts: Attempts = 'retry',
): Promise<RegistrationOp> {
  const id = randomUUID();
  const body = personFor(id);
  const op: RegistrationOp = {
    kind: 'registration',
    id,
    email: body.email,
    meetingId,
    outcome: 'unknown',
    startedAt: Date.now(),
  };
  const deadline = Date.now() + 180_000;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const res = await system.call('registration', 'POST', `/meetings/${meetingId}/registrations`, {
      body,
      replica: attempt % replicas,
    });
    op.answer = res.status;
    op.answeredAt = Date.now();
    if (res.status === 200 || res.status === 201) {
      op.outcome = 'committed';
      op.status = res.body.status ?? undefined;
      op.registrationId = res.body.registrationId ?? undefined;
      return op;
    }
    if (res.status >= 400 && res.status < 500) {
      op.outcome = 'rejected';
      op.status = `${res.status}`;
      return op;
    }
    if (attempts === 'once') return op;
    await pause(200);
  }
  return op;
}

/**
 * Edits a deal's summary to a text naming the operation; after a lost answer it reads the deal back: if
 * the summary is the operation's, it committed (only this worker edits this deal).
 */
export async function changeDealOnce(
  system: System,
  dealId: string,
  attempts: Attempts = 'retry',
): Promise<DealChangeOp> {
  const id = randomUUID();
  const summary = `change ${id}`;
  const op: DealChangeOp = {
    kind: 'deal-change',
    id,
    dealId,
    summary,
    outcome: 'unknown',
    startedAt: Date.now(),
  };
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const res = await system.call('deal_tracking', 'PATCH', `/deals/${dealId}`, {
      body: { summary },
      headers: adminAuth,
    });
    op.answer = res.status;
    op.answeredAt = Date.now();
    if (res.status === 200) {
      op.outcome = 'committed';
      op.version = res.body.version;
      return op;
    }
    if (res.status >= 400 && res.status < 500) {
      op.outcome = 'rejected';
      return op;
    }
    // The database is read back after the fault (resolveFromDatabase).
    if (attempts === 'once') return op;
    // No answer: find out whether it committed before trying again.
    const read = await callUntilAnswered(system, 'deal_tracking', 'GET', `/deals/${dealId}`, {
      headers: adminAuth,
    });
    if (read.status === 200 && read.body.summary === summary) {
      op.outcome = 'committed';
      op.version = read.body.version;
      return op;
    }
    await pause(200);
  }
  return op;
}

/**
 * Reads every operation back from the database (Postgres is the truth): a registration committed iff a
 * row with its unique address exists; a deal change iff the deal's history has an event with its unique
 * summary. Operations without a definite answer take that outcome; the others must agree with it.
 * Returns the operations whose answer the database contradicts.
 */
export async function resolveFromDatabase(
  system: System,
  registrations: RegistrationOp[],
  changes: DealChangeOp[],
): Promise<string[]> {
  const contradicted: string[] = [];
  const rows = await system.query<{ email: string; id: string; status: string }>(
    'select email, id, status from registration.registration where email = any($1)',
    [registrations.map((r) => r.email)],
  );
  const byEmail = new Map(rows.map((r) => [r.email, r]));
  for (const op of registrations) {
    const row = byEmail.get(op.email);
    if (op.outcome === 'unknown') {
      op.resolvedFromDatabase = true;
      op.outcome = row ? 'committed' : 'absent';
      op.registrationId = row?.id;
      op.status = row?.status;
    } else if (
      (op.outcome === 'committed') !== !!row ||
      // A retry that found its own registration was answered without its id (the address was registered).
      (row && op.registrationId !== undefined && row.id !== op.registrationId)
    ) {
      contradicted.push(
        `registration ${op.id}: answered ${op.outcome}, database ${row ? 'has' : 'lacks'} it`,
      );
    } else if (row && op.registrationId === undefined) {
      op.registrationId = row.id;
      op.status = row.status;
    }
  }
  const history = await system.query<{ summary: string; version: number; deal_id: string }>(
    `select event->'data'->>'summary' as summary, version, deal_id from deal_tracking.deal_change
      where event->'data'->>'summary' = any($1)`,
    [changes.map((c) => c.summary)],
  );
  const bySummary = new Map(history.map((h) => [h.summary, h]));
  for (const op of changes) {
    const row = bySummary.get(op.summary);
    if (op.outcome === 'unknown') {
      op.resolvedFromDatabase = true;
      op.outcome = row ? 'committed' : 'absent';
      op.version = row?.version;
    } else if ((op.outcome === 'committed') !== !!row || (row && row.version !== op.version)) {
      contradicted.push(`deal change ${op.id}: answered ${op.outcome}, database ${row ? 'has' : 'lacks'} it`);
    }
  }
  return contradicted;
}

export interface Classification {
  operations: number;
  deliveredOnce: number;
  lost: string[];
  duplicated: string[];
  /** The same message (same Message-ID / webhook-id) received more than once: at-least-once transport. */
  resent: number;
}

/** Registrations → confirmation (or waitlist) mails: one distinct Message-ID per committed registration. */
export function classifyMails(ops: RegistrationOp[], mails: RecordedMail[], kinds: string[]): Classification {
  const byAddress = new Map<string, RecordedMail[]>();
  for (const m of mails) {
    if (!kinds.includes(m.kind)) continue;
    const list = byAddress.get(m.to) ?? [];
    list.push(m);
    byAddress.set(m.to, list);
  }
  const result: Classification = { operations: 0, deliveredOnce: 0, lost: [], duplicated: [], resent: 0 };
  for (const op of ops) {
    if (op.outcome !== 'committed') continue;
    result.operations += 1;
    const got = byAddress.get(op.email.toLowerCase()) ?? [];
    const distinct = new Set(got.map((m) => m.messageId)).size;
    result.resent += got.length - distinct;
    if (distinct === 0) result.lost.push(op.id);
    else if (distinct > 1) result.duplicated.push(op.id);
    else result.deliveredOnce += 1;
  }
  return result;
}

/** Deal changes → webhook deliveries: one distinct event (and webhook-id) per committed (deal, version). */
export function classifyDeliveries(
  ops: DealChangeOp[],
  deliveries: RecordedDelivery[],
  eventType = 'nl.citydeals.deal_tracking.deal.updated.v1',
): Classification {
  const byVersion = new Map<string, RecordedDelivery[]>();
  for (const d of deliveries) {
    if (d.eventType !== eventType) continue;
    const key = `${d.dealId}@${d.version}`;
    const list = byVersion.get(key) ?? [];
    list.push(d);
    byVersion.set(key, list);
  }
  const result: Classification = { operations: 0, deliveredOnce: 0, lost: [], duplicated: [], resent: 0 };
  for (const op of ops) {
    if (op.outcome !== 'committed') continue;
    result.operations += 1;
    const got = byVersion.get(`${op.dealId}@${op.version}`) ?? [];
    const events = new Set(got.map((d) => d.eventId)).size;
    const webhookIds = new Set(got.map((d) => d.webhookId)).size;
    result.resent += got.length - webhookIds;
    if (events === 0) result.lost.push(op.id);
    else if (events > 1 || webhookIds > 1) result.duplicated.push(op.id);
    else result.deliveredOnce += 1;
  }
  return result;
}

/** Waits (bounded) until every committed operation has at least one effect; the drain then catches late duplicates. */
export async function waitForEffects(
  check: () => Classification,
  timeoutMs = 120_000,
): Promise<Classification> {
  return eventually(
    () => {
      const c = check();
      return c.lost.length === 0 ? c : undefined;
    },
    timeoutMs,
    250,
  ).then((c) => c ?? check());
}

export function summary(label: string, c: Classification): string {
  return `${label}: operations=${c.operations} deliveredOnce=${c.deliveredOnce} lost=${c.lost.length} duplicated=${c.duplicated.length} resent(same id)=${c.resent}`;
}
