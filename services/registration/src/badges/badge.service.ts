import { problems } from '@citydeals/service-kit';
import type { ServiceContext } from '../context.ts';
import type { RegistrationStatusColumn } from '../db/database.ts';
import { findMeeting } from '../meetings/meeting.repository.ts';
import { type SheetLayoutName, sheetLayouts } from './badge.layout.ts';
import { renderBadges } from './badge.pdf.ts';
import { badgeHolders } from './badge.repository.ts';

export type BadgeSelection = 'seated' | 'checked_in';

const statusesOf: Record<BadgeSelection, RegistrationStatusColumn[]> = {
  // Printed the day before: everyone holding a seat, whether or not they are checked in yet.
  seated: ['confirmed', 'checked_in'],
  checked_in: ['checked_in'],
};

export async function meetingBadges(
  ctx: ServiceContext,
  meetingId: string,
  options: { layout: SheetLayoutName; who: BadgeSelection },
) {
  const meeting = await findMeeting(ctx.db, meetingId);
  if (!meeting) throw problems.notFound(`meeting ${meetingId}`);
  // Alphabetical as a Dutch reader expects it, whatever the database's collation.
  const byName = new Intl.Collator('nl', { sensitivity: 'base' });
  const holders = (await badgeHolders(ctx.db, meetingId, statusesOf[options.who])).sort((a, b) =>
    byName.compare(a.name ?? '', b.name ?? ''),
  );
  const pdf = await renderBadges(
    holders.map((h) => ({ name: h.name ?? '', organisation: h.organisation ?? '', deal: h.deal })),
    sheetLayouts[options.layout],
    `Naambadges — ${meeting.title}`,
  );
  return { filename: `badges-${meeting.slug}.pdf`, pdf, count: holders.length };
}
