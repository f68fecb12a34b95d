import {
  dealCreated,
  dealPhaseChanged,
  dealTermExtended,
  dealTrancheStarted,
  dealUpdated,
  streams,
} from '@citydeals/contracts';
import { defineConsumer, on } from '@citydeals/messaging';
import type { Database } from '../db/database.ts';
import { applyDealVersion } from '../deals/deal.repository.ts';

type DealRef = { dealId: string; name: string; slug: string; kind: string; phase: string; version: number };

const project = (data: DealRef, time: string) => ({
  deal: {
    id: data.dealId,
    name: data.name,
    slug: data.slug,
    kind: data.kind,
    phase: data.phase,
    version: data.version,
  },
  at: new Date(time),
});

/**
 * Keeps the local `deals` table from deal-tracking's deal events: every one carries the deal's name, kind,
 * phase and version. Content events (partners, results, lessons) do not change what is kept here.
 */
export const dealProjectionConsumer = defineConsumer<Database>({
  name: 'registration-deal-projection',
  stream: streams.deal_tracking,
  filterSubject: 'deal_tracking.deal.>',
  handlers: [dealCreated, dealUpdated, dealPhaseChanged, dealTermExtended, dealTrancheStarted].map(
    (definition) =>
      on<Database, typeof definition>(definition, async (trx, event) => {
        const { deal, at } = project(event.data as DealRef, event.time);
        await applyDealVersion(trx, deal, at);
      }),
  ),
});
