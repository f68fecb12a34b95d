import type { DealKind, DealPhase, DealRole, LessonKind, PartnerType } from '@citydeals/contracts';
import type { ServiceTables } from '@citydeals/service-kit';
import type { ColumnType, Generated } from 'kysely';

/**
 * Calendar dates are `date` columns written as ISO strings; repositories read them back with
 * `to_char(…, 'YYYY-MM-DD')` because node-postgres would turn them into local-midnight Date objects.
 */
type DateColumn = ColumnType<string, string, string>;
type NullableDateColumn = ColumnType<string | null, string | null, string | null>;

export interface DealTable {
  id: string;
  slug: string;
  name: string;
  kind: DealKind;
  summary: string | null;
  themes: string[];
  signed_on: NullableDateColumn;
  term_ends_on: NullableDateColumn;
  tranche: number | null;
  phase: DealPhase;
  phase_since: Date;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface DealPersonTable {
  id: string;
  deal_id: string;
  name: string;
  role: DealRole;
  email: string;
  added_at: Date;
}

export interface DealPartnerTable {
  id: string;
  deal_id: string;
  name: string;
  type: PartnerType;
  joined_on: DateColumn;
  left_on: NullableDateColumn;
  left_reason: string | null;
}

export interface DealResultTable {
  id: string;
  deal_id: string;
  title: string;
  description: string | null;
  achieved_on: NullableDateColumn;
  recorded_at: Date;
}

export interface DealLessonTable {
  id: string;
  deal_id: string;
  kind: LessonKind;
  text: string;
  meeting_id: string | null;
  recorded_at: Date;
}

export interface DealLinkTable {
  id: string;
  deal_id: string;
  other_deal_id: string;
  note: string | null;
  meeting_id: string | null;
  recorded_at: Date;
}

export interface DealExtensionTable {
  id: string;
  deal_id: string;
  previous_term_ends_on: NullableDateColumn;
  term_ends_on: DateColumn;
  reason: string;
  recorded_at: Date;
}

export interface DealTrancheTable {
  id: string;
  deal_id: string;
  tranche: number;
  starts_on: DateColumn;
  note: string | null;
  recorded_at: Date;
}

/** History of every deal and source of the change feed: one row per change, i.e. per event. */
export interface DealChangeTable {
  id: Generated<number>;
  /** Feed position, assigned after commit by the sequencer (see change.repository.ts); null until then. */
  position: number | null;
  deal_id: string;
  version: number;
  event_id: string;
  subject: string;
  /** The whole CloudEvent as published, so feed readers and NATS consumers see the same thing. */
  event: ColumnType<unknown, string, string>;
  occurred_at: Date;
}

export interface SeedRunTable {
  name: string;
  completed_at: Date;
}

/** Every table this service may touch: its own schema and nothing else. */
export interface Database extends ServiceTables {
  deal: DealTable;
  deal_person: DealPersonTable;
  deal_partner: DealPartnerTable;
  deal_result: DealResultTable;
  deal_lesson: DealLessonTable;
  deal_link: DealLinkTable;
  deal_extension: DealExtensionTable;
  deal_tranche: DealTrancheTable;
  deal_change: DealChangeTable;
  seed_run: SeedRunTable;
}
