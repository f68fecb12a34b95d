import fc from 'fast-check';
import {
  type FuzzRequest,
  type JsonSchema,
  type Operation,
  operationsOf,
  requestsFor,
  valid,
} from './openapi-fuzz.ts';
import { adminAuth, type ServiceKey, type System, serviceKeys } from './system.ts';

export const READ_KEY = 'cdk_fault-suite-read-only-key-0123456789';
export const WRONG_KEY = 'cdk_fault-suite-wrong-key-0123456789abcdef';

/**
 * Routes that must need a key, whatever the OpenAPI document says: every /admin route, the webhook admin
 * API, and everything of deal-tracking but its operations routes (deals carry staff contact addresses).
 */
export function mustBeProtected(service: ServiceKey, op: Operation): boolean {
  if (op.secured || op.path.startsWith('/admin/')) return true;
  if (service === 'notification') return op.path.startsWith('/webhooks/') || op.path === '/emails';
  if (service === 'deal_tracking') return op.path.startsWith('/deals') || op.path === '/changes';
  return false;
}

/** The next transaction id of the cluster: it moves when, and only when, some transaction writes. */
export async function nextXid(system: System): Promise<string> {
  const rows = await system.query<{ x: string }>('select pg_snapshot_xmax(pg_current_snapshot())::text as x');
  return rows[0]!.x;
}

/**
 * Transactions that took an id since `before` and committed. A request that locks a row (SELECT … FOR
 * UPDATE) takes an id too, but when it then rejects and rolls back, its transaction is `aborted`: only a
 * committed one can have written anything.
 */
export async function committedSince(system: System, before: string): Promise<string[]> {
  const rows = await system.query<{ x: string }>(
    `select x::text from generate_series($1::bigint, pg_snapshot_xmax(pg_current_snapshot())::text::bigint - 1) x
      where pg_xact_status(x::text::xid8) = 'committed'`,
    [before],
  );
  return rows.map((r) => r.x);
}

/** Row counts of every table of the three schemas (the outboxes included). */
export async function rowCounts(system: System): Promise<Record<string, number>> {
  const tables = await system.query<{ s: string; t: string }>(
    `select table_schema as s, table_name as t from information_schema.tables
      where table_schema = any($1) and table_type = 'BASE TABLE' order by 1, 2`,
    [serviceKeys],
  );
  const parts = tables.map(({ s, t }) => `select '${s}.${t}' as k, count(*)::int as n from "${s}"."${t}"`);
  const rows = await system.query<{ k: string; n: number }>(parts.join(' union all '));
  return Object.fromEntries(rows.map((r) => [r.k, r.n]));
}

export function exampleOf(schema: JsonSchema | undefined): unknown {
  if (!schema) return undefined;
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  return fc.sample(valid(schema), { numRuns: 1, seed: 42 })[0];
}

/** The operation's path with a syntactically valid value in every parameter. */
export function validPath(op: Operation, ids: Partial<Record<string, string>> = {}): string {
  return op.pathParams.reduce((path, p) => {
    const numeric = p.schema.type === 'integer' || p.schema.type === 'number';
    const value = (!numeric && ids[p.name]) || String(exampleOf(p.schema) ?? (numeric ? 1 : 'x'));
    return path.replace(`{${p.name}}`, encodeURIComponent(value));
  }, op.path);
}

export async function loadOperations(system: System, service: ServiceKey): Promise<Operation[]> {
  const doc = await system.call(service, 'GET', '/openapi.json');
  if (doc.status !== 200) throw new Error(`${service} /openapi.json answered ${doc.status}`);
  return operationsOf(doc.body);
}

export interface FuzzTally {
  requests: number;
  byStatus: Record<string, number>;
  /** Rejected requests during which some transaction committed. */
  rejectedWithWrite: { service: ServiceKey; request: FuzzRequest; status: number }[];
  serverErrors: { service: ServiceKey; request: FuzzRequest; status: number; text: string }[];
  /** Accepted writes after which the system did not get quiet again. */
  unsettled: { service: ServiceKey; request: FuzzRequest; error: string }[];
  accepted: number;
}

/**
 * Fuzzes one operation with `numRuns` requests (admin key sent, so validation and handlers are reached).
 * Records every 5xx or dropped connection, and every rejected (4xx) request that wrote anything. After an
 * accepted write it waits until the system is quiet again, so the next comparison starts clean.
 */
export async function fuzzOperation(
  system: System,
  service: ServiceKey,
  op: Operation,
  knownIds: string[],
  numRuns: number,
  tally: FuzzTally,
  seed: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(requestsFor(op, knownIds), async (req) => {
      const before = await nextXid(system);
      const headers: Record<string, string> = { ...adminAuth };
      const answer = await system.call(service, req.method, req.url, {
        ...(req.hasBody ? { rawBody: JSON.stringify(req.body) } : {}),
        headers: req.hasBody ? { ...headers, 'content-type': 'application/json' } : headers,
      });
      tally.requests += 1;
      tally.byStatus[answer.status] = (tally.byStatus[answer.status] ?? 0) + 1;
      if (answer.status >= 500 || answer.status === 0) {
        tally.serverErrors.push({
          service,
          request: req,
          status: answer.status,
          text: answer.text.slice(0, 500),
        });
        return;
      }
      if (answer.status >= 400) {
        const committed = await committedSince(system, before);
        if (committed.length > 0)
          tally.rejectedWithWrite.push({ service, request: req, status: answer.status });
        return;
      }
      if (req.method !== 'GET') {
        tally.accepted += 1;
        try {
          await system.drain(30_000, 200);
          await settleXid(system);
        } catch (err) {
          tally.unsettled.push({ service, request: req, error: (err as Error).message });
        }
      }
    }),
    { numRuns, seed, endOnFailure: true },
  );
}

/** Waits until no transaction writes for a moment (consumers and workers have finished reacting). */
export async function settleXid(system: System): Promise<void> {
  let last = await nextXid(system);
  for (let stable = 0; stable < 3; ) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await nextXid(system);
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
}

/** One request of the NUL-byte check: where the NUL goes and the field the 400 must name. */
export interface NulProbe {
  path: string;
  body: unknown;
  form?: string;
  field: string;
}

/**
 * Requests that each put a NUL byte in one text input of the operation: every string path parameter,
 * every query parameter, and the first string of an example body (or, for a form page, a form field).
 */
export function nulProbes(op: Operation, ids: Partial<Record<string, string>>): NulProbe[] {
  const path = validPath(op, ids);
  const body = op.body ? exampleOf(op.body) : undefined;
  const probes: NulProbe[] = [];
  for (const p of op.pathParams) {
    if (p.schema.type === 'integer' || p.schema.type === 'number') continue;
    const valid = validPath({ ...op, pathParams: op.pathParams.filter((q) => q !== p) }, ids);
    probes.push({ path: valid.replace(`{${p.name}}`, 'a%00b'), body, field: `params.${p.name}` });
  }
  for (const q of op.queryParams) {
    probes.push({
      path: `${path}?${encodeURIComponent(q.name)}=a%00b`,
      body,
      field: `querystring.${q.name}`,
    });
  }
  const leaf = body === undefined ? null : firstStringLeaf(body, []);
  if (leaf) probes.push({ path, body: withNulAt(body, leaf), field: ['body', ...leaf].join('.') });
  if (op.body?.type === 'object' && op.body.additionalProperties) {
    // A form page: its body is a record of fields, posted as a form too.
    probes.push({ path, body: undefined, form: 'name=Ann%00e&email=a%40example.org', field: 'body.name' });
  }
  return probes;
}

function firstStringLeaf(value: unknown, at: string[]): string[] | null {
  if (typeof value === 'string') return at;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = firstStringLeaf(item, [...at, String(i)]);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = firstStringLeaf(item, [...at, key]);
      if (found) return found;
    }
  }
  return null;
}

function withNulAt(value: unknown, at: string[]): unknown {
  if (at.length === 0) return `${String(value)}\u0000`;
  const [head, ...rest] = at;
  if (Array.isArray(value))
    return value.map((item, i) => (String(i) === head ? withNulAt(item, rest) : item));
  const record = value as Record<string, unknown>;
  return { ...record, [head!]: withNulAt(record[head!], rest) };
}
