import type { FieldErrors, MeetingFormValues } from './meeting.views.ts';

/** Where a field a service names (`body.venue.name`) sits in the console's form (`venueName`). */
const FORM_FIELD: Record<string, string> = {
  'body.venue.name': 'venueName',
  'body.venue.address': 'venueAddress',
  'body.venue': 'venueName',
};

/** A service's problem answer as messages beside the form's fields. */
export function fieldErrorsOf(problem: unknown, fallbackField: string): FieldErrors {
  const body = problem as { errors?: { field?: string; message?: string }[]; detail?: string } | null;
  const errors: FieldErrors = {};
  for (const e of body?.errors ?? []) {
    const name = FORM_FIELD[e.field ?? ''] ?? (e.field ?? '').replace(/^body\./, '').split('.')[0]!;
    errors[name || fallbackField] ??= e.message ?? 'ongeldig';
  }
  if (Object.keys(errors).length === 0) errors[fallbackField] = body?.detail ?? 'ongeldig';
  return errors;
}

const orNull = (value: string) => (value.trim() === '' ? null : value.trim());

/** The create form as registration's create call takes it; times stay wall-clock in the meeting's zone. */
export function createBodyOf(v: MeetingFormValues, publish: boolean) {
  return {
    title: v.title.trim(),
    slug: v.slug.trim(),
    description: orNull(v.description),
    startsAt: v.startsAt,
    endsAt: v.endsAt,
    venue: { name: v.venueName.trim(), address: v.venueAddress.trim() },
    onlineUrl: orNull(v.onlineUrl),
    capacity: Number(v.capacity),
    status: publish ? 'published' : 'draft',
  };
}

/** The edit form as registration's edit call takes it: the fields the form carries. */
export function editBodyOf(v: Omit<MeetingFormValues, 'startsAt' | 'endsAt' | 'capacity'>) {
  return {
    title: v.title.trim(),
    slug: v.slug.trim(),
    description: orNull(v.description),
    venue: { name: v.venueName.trim(), address: v.venueAddress.trim() },
    onlineUrl: orNull(v.onlineUrl),
  };
}
