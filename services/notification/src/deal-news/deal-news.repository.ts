import {
  type CloudEvent,
  type DealCreatedEvent,
  type DealPhaseChangedEvent,
  type DealTermExtendedEvent,
  type DealTrancheStartedEvent,
  type DealUpdatedEvent,
  dealCreated,
  dealPhaseChanged,
  dealTermExtended,
  dealTrancheStarted,
  dealUpdated,
  type LessonRecordedEvent,
  type LinkCreatedEvent,
  lessonRecorded,
  type PartnerJoinedEvent,
  type PartnerLeftEvent,
  type ResultRecordedEvent,
  resultRecorded,
} from '@citydeals/contracts';
import { prepared } from '@citydeals/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DealChange, DealNewsDetail, MeetingAt } from './deal-news.rules.ts';

export type DealTrackingEvent =
  | DealCreatedEvent
  | DealUpdatedEvent
  | DealPhaseChangedEvent
  | DealTermExtendedEvent
  | DealTrancheStartedEvent
  | PartnerJoinedEvent
  | PartnerLeftEvent
  | ResultRecordedEvent
  | LessonRecordedEvent
  | LinkCreatedEvent;

const namedEvents: ReadonlySet<string> = new Set([
  dealCreated.type,
  dealUpdated.type,
  dealPhaseChanged.type,
  dealTermExtended.type,
  dealTrancheStarted.type,
]);

/** What a deal-tracking event adds to the news, if anything: phase changes, results and lessons only. */
function newsDetail(event: DealTrackingEvent): DealNewsDetail | null {
  switch (event.type) {
    case dealPhaseChanged.type:
      return { kind: 'phase_changed', from: event.data.from, to: event.data.to };
    case resultRecorded.type:
      return { kind: 'result', title: event.data.title };
    case lessonRecorded.type:
      return { kind: 'lesson', lessonKind: event.data.kind, text: event.data.text };
    default:
      return null;
  }
}

/**
 * Keeps the deal news read model: each deal's latest name, and one row per phase change, result or lesson.
 * Neither holds personal data (no actor, no contact), so an erasure has nothing to do here. A redelivered
 * event changes nothing: the news is keyed by event id and a name moves only to a newer version.
 */
export async function recordDealNews(
  trx: Transaction<Database>,
  validated: readonly CloudEvent[],
): Promise<void> {
  // The runner validated each event against the contract its type names, so type and data belong together.
  const events = validated as readonly DealTrackingEvent[];
  const names = new Map<string, { deal_id: string; version: number; name: string }>();
  for (const event of events) {
    if (!namedEvents.has(event.type) || !('name' in event.data)) continue;
    const { dealId, version, name } = event.data;
    const known = names.get(dealId);
    if (!known || known.version < version) names.set(dealId, { deal_id: dealId, version, name });
  }
  // Prepared, with the rows as one JSON parameter: a statement whose text grew with the batch was parsed and
  // planned anew for every consumer batch.
  if (names.size > 0) {
    await sql`${prepared('news-deal-names')}
      insert into news_deal (deal_id, version, name)
      select n.deal_id, n.version, n.name
      from json_to_recordset(${JSON.stringify([...names.values()])}::json)
        as n(deal_id uuid, version int, name text)
      on conflict (deal_id) do update set version = excluded.version, name = excluded.name
      where news_deal.version < excluded.version`.execute(trx);
  }
  const news = events.flatMap((event) => {
    const detail = newsDetail(event);
    return detail
      ? [
          {
            event_id: event.id,
            deal_id: event.data.dealId,
            version: event.data.version,
            kind: detail.kind,
            occurred_at: event.data.occurredAt,
            detail,
          },
        ]
      : [];
  });
  if (news.length > 0) {
    await sql`${prepared('deal-news')}
      insert into deal_news (event_id, deal_id, version, kind, occurred_at, detail)
      select n.event_id, n.deal_id, n.version, n.kind, n.occurred_at, n.detail
      from json_to_recordset(${JSON.stringify(news)}::json)
        as n(event_id uuid, deal_id uuid, version int, kind text, occurred_at timestamptz, detail jsonb)
      on conflict (event_id) do nothing`.execute(trx);
  }
}

/**
 * Every meeting that started before the given moment. A handful a year (the CoP meets three or four
 * times), so the choice of the previous one is left to the rule.
 */
export async function meetingsStartedBefore(db: Kysely<Database>, before: Date): Promise<MeetingAt[]> {
  const rows = await db
    .selectFrom('meeting')
    .select(['id', 'starts_at', 'status'])
    .where('starts_at', '<', before)
    .execute();
  return rows.map((r) => ({ id: r.id, startsAt: new Date(r.starts_at), status: r.status }));
}

/** The changes that happened after `after` and up to `until`, with the deal's name where known. */
export async function dealChangesBetween(
  db: Kysely<Database>,
  after: Date,
  until: Date,
): Promise<DealChange[]> {
  const rows = await db
    .selectFrom('deal_news as n')
    .leftJoin('news_deal as d', 'd.deal_id', 'n.deal_id')
    .select(['n.deal_id', 'd.name', 'n.version', 'n.occurred_at', 'n.detail'])
    .where('n.occurred_at', '>', after)
    .where('n.occurred_at', '<=', until)
    .orderBy('n.occurred_at')
    .execute();
  return rows.map((r) => ({
    dealId: r.deal_id,
    dealName: r.name,
    version: r.version,
    occurredAt: new Date(r.occurred_at),
    detail: r.detail,
  }));
}
