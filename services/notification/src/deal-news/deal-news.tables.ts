import type { ColumnType } from 'kysely';
import type { DealNewsDetail } from './deal-news.rules.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** The deal news tables of the notification schema (see db/deal-news.migrations.ts). */
export interface DealNewsTables {
  news_deal: {
    deal_id: string;
    version: number;
    name: string;
  };
  deal_news: {
    event_id: string;
    deal_id: string;
    version: number;
    kind: DealNewsDetail['kind'];
    occurred_at: Timestamp;
    detail: ColumnType<DealNewsDetail, string, string>;
  };
}
