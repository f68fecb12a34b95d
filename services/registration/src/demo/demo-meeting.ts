import { HttpProblem } from '@citydeals/service-kit';
import type { ServiceContext } from '../context.ts';
import { findMeetingBySlug } from '../meetings/meeting.repository.ts';
import type { CreateMeetingInput } from '../meetings/meeting.schemas.ts';
import { createMeeting } from '../meetings/meeting.service.ts';

export const DEMO_MEETING_SLUG = 'cop-city-deals-demo';

/** A Thursday about six weeks ahead, as a local date in Amsterdam: the CoP usually meets on a Thursday. */
export function demoMeetingDate(now: Date): string {
  const day = new Date(now.getTime() + 42 * 24 * 3600 * 1000);
  while (day.getUTCDay() !== 4) day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

/** The agenda follows the meeting of 23 November 2023 described in the seed article. */
export function demoMeetingInput(now: Date): CreateMeetingInput {
  const date = demoMeetingDate(now);
  return {
    title: 'Community of Practice City Deals: kritische vrienden',
    slug: DEMO_MEETING_SLUG,
    description:
      'Projectleiders, -secretarissen en dealmakers van de City Deals en de Town Deal delen successen en ' +
      'tegenslagen van het afgelopen jaar, zoeken dwarsverbanden tussen deals en ontwerpen samen de CoP van ' +
      'de toekomst. Met afsluitende borrel.',
    startsAt: `${date}T13:00`,
    endsAt: `${date}T17:30`,
    timeZone: 'Europe/Amsterdam',
    venue: {
      name: 'De zwart-gele hangar op het voormalige PTT-terrein',
      address: 'Voormalig PTT-terrein, Den Haag',
    },
    onlineUrl: null,
    capacity: 40,
    registrationOpensAt: null,
    registrationClosesAt: null,
    language: 'nl',
    addressConfirmation: false,
    waitlistPromotion: 'automatic',
    offerHours: 48,
    agenda: [
      { time: '13:00', title: 'Inloop en welkom door Agenda Stad', kind: 'plenary' },
      {
        time: '13:30',
        title: 'Jaarparade: opbouwen – nieuwe City Deals en de Town Deal',
        kind: 'presentation',
      },
      {
        time: '14:15',
        title: 'Jaarparade: resultaten, van ISDE-regelwijziging tot voedselomgeving',
        kind: 'presentation',
      },
      { time: '15:00', title: 'Pauze', kind: 'break' },
      { time: '15:15', title: 'Jaarparade: borgen en opschalen', kind: 'presentation' },
      { time: '15:45', title: 'Ontwerpsessie: wat is je ideale CoP?', kind: 'workshop' },
      { time: '16:45', title: 'Borrel: dwarsverbanden beklinken', kind: 'drinks' },
    ],
    reminderOffsets: ['P7D', 'P1D'],
    status: 'published',
  };
}

/**
 * Creates the demo meeting through the normal service function (so its event is published), once: a second
 * start, or a second replica racing this one, finds the slug taken and leaves it alone.
 */
export async function seedDemoMeeting(ctx: ServiceContext): Promise<'created' | 'present'> {
  if (await findMeetingBySlug(ctx.db, DEMO_MEETING_SLUG)) return 'present';
  try {
    await createMeeting(ctx, demoMeetingInput(ctx.clock.now()));
    return 'created';
  } catch (err) {
    if (err instanceof HttpProblem && err.problem.status === 409) return 'present';
    throw err;
  }
}
