import type { FieldErrors } from '../meetings/meeting.views.ts';

/**
 * A message to a meeting's attendees, between the console's form and registration's and notification's
 * calls. Pure: the form's flat fields in, the API bodies out, and the APIs' problem fields back to the form's
 * fields. Registration decides what is valid; the console carries it.
 */

export const messageStatuses = ['confirmed', 'waitlisted', 'checked_in'] as const;
export const messageLanguages = ['nl', 'en'] as const;
export type MessageLanguage = (typeof messageLanguages)[number];

export interface MessageFormValues {
  /** Chosen when the form is shown, so a form sent twice (a double tap, a retry) sends one message. */
  id: string;
  statuses: string[];
  dealIds: string[];
  roles: string[];
  texts: Record<MessageLanguage, { subject: string; body: string }>;
  /** Wall-clock time in the meeting's zone, as a datetime-local field holds it; empty: at once. */
  sendAt: string;
}

export const emptyMessage = (id: string): MessageFormValues => ({
  id,
  statuses: ['confirmed'],
  dealIds: [],
  roles: [],
  texts: { nl: { subject: '', body: '' }, en: { subject: '', body: '' } },
  sendAt: '',
});

const str = (value: unknown, max: number) => (typeof value === 'string' ? value.slice(0, max) : '');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The form's flat fields (`status_confirmed`, `deal_<id>`, `role_partner`, `subjectNl`, …) as values. */
export function messageValuesOf(form: Readonly<Record<string, unknown>>, roles: readonly string[]) {
  const keys = Object.keys(form);
  const ticked = (prefix: string) =>
    keys.filter((k) => k.startsWith(prefix) && form[k] === '1').map((k) => k.slice(prefix.length));
  const text = (lang: 'Nl' | 'En') => ({
    subject: str(form[`subject${lang}`], 400),
    body: str(form[`body${lang}`], 40_000),
  });
  const values: MessageFormValues = {
    id: str(form.id, 36),
    statuses: messageStatuses.filter((s) => form[`status_${s}`] === '1'),
    dealIds: ticked('deal_').filter((id) => UUID.test(id)),
    roles: roles.filter((r) => form[`role_${r}`] === '1'),
    texts: { nl: text('Nl'), en: text('En') },
    sendAt: str(form.sendAt, 40),
  };
  return values;
}

/** The values back as the form's flat fields, for the hidden fields of the preview step. */
export function messageFieldsOf(v: MessageFormValues): Record<string, string> {
  const fields: Record<string, string> = {
    id: v.id,
    subjectNl: v.texts.nl.subject,
    bodyNl: v.texts.nl.body,
    subjectEn: v.texts.en.subject,
    bodyEn: v.texts.en.body,
    sendAt: v.sendAt,
  };
  for (const s of v.statuses) fields[`status_${s}`] = '1';
  for (const d of v.dealIds) fields[`deal_${d}`] = '1';
  for (const r of v.roles) fields[`role_${r}`] = '1';
  return fields;
}

/** The languages the office wrote in: a subject or a body makes a language written. */
export const writtenLanguages = (v: MessageFormValues): MessageLanguage[] =>
  messageLanguages.filter((l) => v.texts[l].subject.trim() !== '' || v.texts[l].body.trim() !== '');

const offsetMs = (instant: number, timeZone: string) => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - instant;
};

/**
 * A wall-clock time (`2027-03-11T09:00`) in a time zone as the instant registration takes (with an offset);
 * null when it is no such time. A time in the hour a clock skips is read as that long after the change (02:30
 * on the spring change is 03:30 summer time), as a clock set forward would show it.
 */
export function instantOf(local: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  if (Number.isNaN(wall)) return null;
  let instant = wall - offsetMs(wall, timeZone);
  instant = wall - offsetMs(instant, timeZone);
  return new Date(instant).toISOString();
}

/** The message as registration's `POST /admin/meetings/{id}/messages` takes it. */
export function messageBodyOf(v: MessageFormValues, timeZone: string) {
  const texts: Partial<Record<MessageLanguage, { subject: string; body: string }>> = {};
  for (const l of writtenLanguages(v)) texts[l] = { subject: v.texts[l].subject, body: v.texts[l].body };
  const sendAt = v.sendAt.trim() === '' ? undefined : (instantOf(v.sendAt.trim(), timeZone) ?? v.sendAt);
  return {
    ...(UUID.test(v.id) ? { id: v.id } : {}),
    statuses: v.statuses,
    ...(v.dealIds.length ? { dealIds: v.dealIds } : {}),
    ...(v.roles.length ? { roles: v.roles } : {}),
    texts,
    ...(sendAt ? { sendAt } : {}),
  };
}

const languageField = (lang: string | undefined) => (lang === 'en' ? 'En' : 'Nl');

/**
 * The services' problem fields beside the form's: `body.texts.en.subject` beside the English subject,
 * `body.texts` (no language written) above the texts, the statuses, filters and time beside themselves.
 * A preview's `body.subject` belongs to the language it previewed.
 */
export function messageErrorsOf(problem: unknown, previewed?: MessageLanguage): FieldErrors {
  const body = problem as { errors?: { field?: string; message?: string }[]; detail?: string } | null;
  const errors: FieldErrors = {};
  for (const e of body?.errors ?? []) {
    const path = (e.field ?? '').replace(/^body\.?/, '').split('.');
    const message = e.message ?? 'ongeldig';
    let field: string;
    if (path[0] === 'texts') field = path[2] ? `${path[2]}${languageField(path[1])}` : 'texts';
    else if (path[0] === 'subject' || path[0] === 'body') field = `${path[0]}${languageField(previewed)}`;
    else if (path[0] === 'statuses') field = 'statuses';
    else if (path[0] === 'dealIds') field = 'deals';
    else if (path[0] === 'roles') field = 'roles';
    else if (path[0] === 'sendAt') field = 'sendAt';
    else field = 'texts';
    errors[field] ??= message;
  }
  if (Object.keys(errors).length === 0) errors.texts = body?.detail ?? 'ongeldig';
  return errors;
}
