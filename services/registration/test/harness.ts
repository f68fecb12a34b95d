import type { RunningService } from '@citydeals/service-kit';
import { adminHeaders, startTestService, type TestServiceContext } from '@citydeals/testkit';
import { sql } from 'kysely';
import { loadServiceConfig } from '../src/config.ts';
import type { ServiceContext } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { startService } from '../src/service.ts';

export { adminHeaders };

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export type Service = RunningService<Database, ServiceContext>;

/** The whole service on its own database and namespace, with a clock the test controls. */
export async function startRegistration(
  clock: TestClock,
  extraEnv: Record<string, string> = {},
): Promise<TestServiceContext<Service>> {
  return startTestService(
    (env) =>
      startService(loadServiceConfig({ PUBLIC_BASE_URL: 'https://cop.example.org', ...env }), { clock }),
    (service) => service.stop(),
    // The meeting feed's announcer runs when a test asks (announceMeetings), so event counts stay exact.
    { MEETING_FEED_INTERVAL_MS: '0', ...extraEnv },
  );
}

export interface OutboxEvent {
  id: string;
  type: string;
  subject: string;
  data: Record<string, any>;
}

/** Every event the service committed, in commit order. */
export async function outboxEvents(service: Service): Promise<OutboxEvent[]> {
  const rows = await service.runtime.db.selectFrom('outbox').select('payload').orderBy('id').execute();
  return rows.map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as OutboxEvent);
}

export const shortType = (type: string) =>
  type.replace(/^nl\.citydeals\.registration\./, '').replace(/\.v\d+$/, '');

export async function countRows(service: Service, table: 'meeting' | 'registration' | 'outbox' | 'deals') {
  const row = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(
    service.runtime.db,
  );
  return row.rows[0]!.n;
}

export function meetingBody(overrides: Record<string, unknown> = {}) {
  return {
    title: 'Community of Practice City Deals, voorjaar 2027',
    slug: `cop-${Math.random().toString(36).slice(2, 10)}`,
    description: 'Jaarparade en ontwerpsessie.',
    startsAt: '2027-03-11T13:00',
    endsAt: '2027-03-11T17:30',
    venue: { name: 'Hangar op het voormalige PTT-terrein', address: 'Voormalig PTT-terrein, Den Haag' },
    capacity: 40,
    status: 'published',
    agenda: [{ time: '13:00', title: 'Welkom', kind: 'plenary' }],
    ...overrides,
  };
}

export function person(i: number, overrides: Record<string, unknown> = {}) {
  return {
    name: `Deelnemer ${i}`,
    email: `deelnemer${i}@example.org`,
    organisation: 'Gemeente Voorbeeld',
    role: 'projectleider',
    ...overrides,
  };
}

export async function createMeeting(service: Service, overrides: Record<string, unknown> = {}) {
  const res = await service.http.inject({
    method: 'POST',
    url: '/admin/meetings',
    headers: adminHeaders,
    payload: meetingBody(overrides),
  });
  if (res.statusCode !== 201) throw new Error(`create meeting: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; slug: string; version: number } & Record<string, any>;
}

export async function registerPerson(service: Service, meetingId: string, body: Record<string, unknown>) {
  return service.http.inject({ method: 'POST', url: `/meetings/${meetingId}/registrations`, payload: body });
}

/** What a browser holds after opening a page with a form: the CSRF cookie and the form's hidden field. */
export async function openForm(service: Service, path: string, cookie?: string) {
  const page = await service.http.inject({ url: path, headers: cookie ? { cookie } : {} });
  const issued = String(page.headers['set-cookie'] ?? '').split(';')[0];
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (!csrf) throw new Error(`no CSRF field on ${path}: ${page.statusCode}`);
  return { page, cookie: issued || cookie || '', csrf };
}

/** Solves the form's proof of work as the widget does (the service runs with a tiny cost in tests). */
export async function solveProofOfWork(service: Service): Promise<string> {
  const { solveChallenge } = await import('altcha-lib');
  const { deriveKey } = await import('altcha-lib/algorithms/pbkdf2');
  const challenge = (await service.http.inject('/aanmelding/pow-challenge')).json();
  const solution = await solveChallenge({ challenge, deriveKey });
  if (!solution) throw new Error('proof of work not solved');
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

/** A form post as a browser sends it. */
export function formPost(url: string, cookie: string, fields: Record<string, string>) {
  return {
    method: 'POST' as const,
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    payload: new URLSearchParams(fields).toString(),
  };
}

/** Deals straight into this service's projection, for tests of what reads it (not of the consumer). */
export async function insertDeals(service: Service, deals: { id: string; name: string; phase: string }[]) {
  await service.runtime.db
    .insertInto('deals')
    .values(
      deals.map((d) => ({
        ...d,
        slug: d.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
        kind: 'city_deal',
        version: 1,
        updated_at: new Date(),
      })),
    )
    .execute();
}

/** Three deals as deal-tracking announces them (deals-projection.test.ts feeds them through the consumer). */
export const dealIds = {
  fietsen: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f',
  binnensteden: '01936a10-3c4d-7e5f-a061-7b8c9d0e1f20',
  lopen: '01936a10-9a9b-7c9d-8e9f-a0b1c2d3e4f5',
};
export const projectedDeals = [
  { id: dealIds.fietsen, name: 'Fietsen voor Iedereen', phase: 'building' },
  { id: dealIds.binnensteden, name: 'Dynamische Binnensteden', phase: 'signed' },
  { id: dealIds.lopen, name: 'Ruimte voor Lopen', phase: 'delivering' },
];
