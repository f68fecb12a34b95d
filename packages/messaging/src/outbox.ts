import { randomUUID } from 'node:crypto';
import {
  createEvent,
  type EventDefinition,
  type EventOf,
  type NewEvent,
  natsSubjectOf,
} from '@citydeals/contracts';
import { prepared, signalAfterCommit } from '@citydeals/db';
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';

/**
 * The outbox is messaging's table: services write events through the functions of this file only, and
 * each of them validates every event against its contract before it is stored and raises `outboxWritten`
 * after the commit, which wakes the relay of this process at once (`Database.onCommit`).
 */
export const outboxWritten = 'outbox-written';

/**
 * Records an event in the outbox of the transaction that makes the state change it announces.
 * Taking a `Transaction` (not a `Kysely`) makes "publish without the state change" a compile error.
 */
export async function enqueueEvent<DB, D extends EventDefinition>(
  trx: Transaction<DB>,
  definition: D,
  input: NewEvent<D>,
): Promise<EventOf<D>> {
  const [event] = await enqueueEvents(trx, definition, [input]);
  return event!;
}

/** `enqueueEvent` for many events of one kind in one transaction, written in one statement. */
export async function enqueueEvents<DB, D extends EventDefinition>(
  trx: Transaction<DB>,
  definition: D,
  inputs: readonly NewEvent<D>[],
): Promise<EventOf<D>[]> {
  if (inputs.length === 0) return [];
  const events = inputs.map((input) => createEvent(definition, input));
  await insertRows(
    events.map((event) => ({
      eventId: event.id,
      subject: natsSubjectOf(definition, event.subject),
      payload: JSON.stringify(event),
    })),
  ).execute(trx);
  await signalAfterCommit(trx, outboxWritten);
  return events;
}

function insertRows(events: readonly OutboxRow[]) {
  return sql`${prepared('enqueue-events')} insert into outbox (event_id, subject, payload)
    select e.i, e.s, e.p
    from rows from (json_to_recordset(${eventsParameter(events)}::json) as (i uuid, s text, p json))
      with ordinality as e(i, s, p, n)
    order by e.n`;
}

/** An outbox row as this file writes it: the event's id, its NATS subject and its payload. */
type OutboxRow = Pick<StatementEvent, 'eventId' | 'subject' | 'payload'>;

/**
 * An event validated against its contract, for a hand-written statement to write together with the state
 * change it announces (see `writeWithEvents`). `key` names the row of the statement it announces: the
 * statement writes the event only if it selects that key.
 */
export interface StatementEvent {
  readonly key: string;
  readonly eventId: string;
  readonly subject: string;
  /** The payload; with `countAt`, the text before the number the statement fills in. */
  readonly payload: string;
  /** With `countAt`: the text after that number. */
  readonly payloadAfterCount: string | null;
}

export function statementEvent<D extends EventDefinition>(
  key: string,
  definition: D,
  input: NewEvent<D>,
): StatementEvent {
  const event = createEvent(definition, input);
  return {
    key,
    eventId: event.id,
    subject: natsSubjectOf(definition, event.subject),
    payload: JSON.stringify(event),
    payloadAfterCount: null,
  };
}

/**
 * An event one whole number of which only the statement that writes it knows, such as a waitlist position
 * decided under the meeting's row lock. The event is validated here with the number `input` gives at
 * `countAt` (so the contract must accept that one); the statement's number replaces it as an integer
 * (`::int`: anything else fails the statement), and the caller's statement must compute one the contract
 * accepts, which its tests check against the contract.
 */
export function statementEventWithCount<D extends EventDefinition>(
  key: string,
  definition: D,
  input: NewEvent<D>,
  countAt: readonly [string, ...string[]],
): StatementEvent {
  const event = createEvent(definition, input);
  const token = randomUUID();
  const { holder, last } = placeOf(event, countAt, definition.type);
  if (typeof Reflect.get(holder, last) !== 'number')
    throw new Error(`${definition.type}: the count's place holds no number`);
  Reflect.set(holder, last, token);
  const [payload, payloadAfterCount] = splitAtMark(
    JSON.stringify(event),
    JSON.stringify(token),
    definition.type,
  );
  return {
    key,
    eventId: event.id,
    subject: natsSubjectOf(definition, event.subject),
    payload,
    payloadAfterCount,
  };
}

/** The object holding the value at `path` of `value`, and that value's name in it. */
function placeOf(value: unknown, path: readonly string[], type: string): { holder: object; last: string } {
  let holder: unknown = value;
  for (const name of path.slice(0, -1)) {
    if (typeof holder !== 'object' || holder === null)
      throw new Error(`${type}: no ${name} to put a mark in`);
    holder = Reflect.get(holder, name);
  }
  const last = path.at(-1)!;
  if (typeof holder !== 'object' || holder === null) throw new Error(`${type}: no ${last} to put a mark in`);
  return { holder, last };
}

/**
 * The text before and after `mark`. A fresh mark can only occur where it was put (the rest of the text is
 * the event's own); the parsed event is a new object, so the mark goes into it in place.
 */
function splitAtMark(text: string, mark: string, type: string): [string, string] {
  const at = text.indexOf(mark);
  if (at < 0 || text.indexOf(mark, at + mark.length) >= 0) throw new Error(`${type}: mark not placed once`);
  return [text.slice(0, at), text.slice(at + mark.length)];
}

/**
 * Events as one JSON array parameter, for every outbox insert of this file. A payload is JSON already and
 * goes in as it is; only a payload split around its count is sent as two strings. As text arrays, pg
 * escaped every quote of every payload element by element, on the service's thread, for each statement.
 */
function eventsParameter(events: readonly (OutboxRow & Partial<StatementEvent>)[]): string {
  const elements = events.map((e) => {
    const key = e.key === undefined ? '' : `"k":${JSON.stringify(e.key)},`;
    const head = `{${key}"i":"${e.eventId}","s":${JSON.stringify(e.subject)}`;
    return e.payloadAfterCount == null
      ? `${head},"p":${e.payload}}`
      : `${head},"b":${JSON.stringify(e.payload)},"a":${JSON.stringify(e.payloadAfterCount)}}`;
  });
  return `[${elements.join(',')}]`;
}

/**
 * Runs a hand-written statement that writes `events` along with the state change they announce, as one
 * statement (committing on its own, or in the transaction `db` belongs to). `statement` embeds the insert
 * into the outbox as a CTE, `announced as (${insertEvents(sql\`select … as key, … as count from …\`)})`,
 * whose query selects the keys of the events to write (`key`, text) and, for events with a count, that
 * number (`count`, an integer; null for the others). Events are written in the order given. Returns the
 * statement's rows.
 */
export async function writeWithEvents<DB, R>(
  db: Kysely<DB>,
  events: readonly StatementEvent[],
  statement: (insertEvents: (selected: RawBuilder<unknown>) => RawBuilder<unknown>) => RawBuilder<R>,
): Promise<R[]> {
  const query = statement(
    (selected) => sql`insert into outbox (event_id, subject, payload)
      select e.i, e.s, coalesce(e.p, (e.b || s.count::int || e.a)::json)
      from rows from (json_to_recordset(${eventsParameter(events)}::json)
          as (k text, i uuid, s text, p json, b text, a text)) with ordinality as e(k, i, s, p, b, a, n)
      join (${selected}) s on s.key = e.k
      order by e.n`,
  );
  return runWriting(db, query);
}

/**
 * An event listing items, of which the statement that writes it keeps those whose rows it selects, such as
 * the messages a settlement finds still leased to it. Validated here with every item (so the contract must
 * accept any non-empty part of the list in order: no rule may span two items); the statement writes the
 * event only if it selects at least one item's key, with the items it selects, in the order given.
 */
export interface StatementListEvent {
  readonly eventId: string;
  readonly subject: string;
  /** The payload's text up to and including the list's `[`, and from its `]` on. */
  readonly before: string;
  readonly after: string;
  /** Each item's JSON text with the key of the row it announces, in list order. */
  readonly items: readonly { key: string; json: string }[];
}

export function statementListEvent<D extends EventDefinition>(
  definition: D,
  input: NewEvent<D>,
  listAt: readonly [string, ...string[]],
  keys: readonly string[],
): StatementListEvent {
  const event = createEvent(definition, input);
  const { holder, last } = placeOf(event, listAt, definition.type);
  const list: unknown = Reflect.get(holder, last);
  if (!Array.isArray(list) || list.length !== keys.length)
    throw new Error(`${definition.type}: the list's place holds no list of ${keys.length} items`);
  const items = list.map((item, i) => ({ key: keys[i]!, json: JSON.stringify(item) }));
  const token = randomUUID();
  Reflect.set(holder, last, token);
  const [before, after] = splitAtMark(JSON.stringify(event), JSON.stringify(token), definition.type);
  return {
    eventId: event.id,
    subject: natsSubjectOf(definition, event.subject),
    before: `${before}[`,
    after: `]${after}`,
    items,
  };
}

/**
 * `writeWithEvents` for one list event: `statement` embeds `announced as (${insertEvent(sql\`select … as key
 * from …\`)})`, whose query selects the keys of the items to list (`key`, text).
 */
export async function writeWithListEvent<DB, R>(
  db: Kysely<DB>,
  event: StatementListEvent,
  statement: (insertEvent: (selected: RawBuilder<unknown>) => RawBuilder<unknown>) => RawBuilder<R>,
): Promise<R[]> {
  const items = `[${event.items.map((i) => `{"k":${JSON.stringify(i.key)},"j":${i.json}}`).join(',')}]`;
  const query = statement(
    (selected) => sql`insert into outbox (event_id, subject, payload)
      select ${event.eventId}::uuid, ${event.subject}::text,
        (${event.before}::text || string_agg(i.j::text, ',' order by i.n) || ${event.after}::text)::json
      from rows from (json_to_recordset(${items}::json) as (k text, j json)) with ordinality as i(k, j, n)
      join (${selected}) s on s.key = i.k
      having count(*) > 0`,
  );
  return runWriting(db, query);
}

/**
 * Runs a statement that writes to the outbox, committing on its own or in `db`'s transaction, and wakes the
 * relay after the commit.
 */
async function runWriting<DB, R>(db: Kysely<DB>, query: RawBuilder<R>): Promise<R[]> {
  if (db.isTransaction) {
    const { rows } = await query.execute(db);
    await signalAfterCommit(db, outboxWritten);
    return rows;
  }
  return db.connection().execute(async (connection) => {
    const { rows } = await query.execute(connection);
    await signalAfterCommit(connection, outboxWritten);
    return rows;
  });
}

/**
 * Deletes every outbox copy of the events about `subject` (the CloudEvents subject, an entity id),
 * published or not: for an erasure, as they carry the personal data being erased.
 */
export async function deleteEventsAbout<DB>(trx: Transaction<DB>, subject: string): Promise<void> {
  await sql`delete from outbox where payload->>'subject' = ${subject}`.execute(trx);
}

export interface OutboxLag {
  unpublished: number;
  oldestAgeSeconds: number;
}

/** How far the relay is behind; exported as a metric and shown on readiness. */
export async function outboxLag<DB>(db: Kysely<DB>): Promise<OutboxLag> {
  const { rows } = await sql<{ unpublished: number; oldest: number }>`
    select count(*)::int as unpublished,
      coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest
    from outbox where published_at is null`.execute(db);
  const row = rows[0]!;
  return { unpublished: row.unpublished, oldestAgeSeconds: row.oldest };
}
