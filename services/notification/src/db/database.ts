import type { ServiceTables } from '@citydeals/service-kit';
import type { AlertTables } from '../alerts/alert.tables.ts';
import type { DealNewsTables } from '../deal-news/deal-news.tables.ts';
import type { MailTextTables } from '../mail-texts/mail-text.tables.ts';
import type { WebhookTables } from '../webhooks/webhook.tables.ts';
import type { EmailTables } from './email.tables.ts';

/** Every table this service may touch: its own schema and nothing else. */
export interface Database
  extends ServiceTables,
    EmailTables,
    WebhookTables,
    AlertTables,
    MailTextTables,
    DealNewsTables {}
