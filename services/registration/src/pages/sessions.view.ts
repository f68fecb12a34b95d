import type { Language } from '@citydeals/contracts';
import type { OwnSession, PublicSession } from '../sessions/session.schemas.ts';
import { type FormGuard, h } from './page.views.ts';

/**
 * The sessions (workshops) of a meeting on the public form and the manage page. Each session is a checkbox
 * of its own name (`session-<id>`): the pages' form parser keeps one value per name.
 */
const FIELD_PREFIX = 'session-';

const sessionTexts = {
  nl: {
    legend: 'Sessies (kies er per tijdvak één)',
    intro: 'Is een sessie vol, dan kom je op de wachtlijst en schuif je door als er een plek vrijkomt.',
    free: (n: number) => (n === 1 ? 'nog 1 plek' : `nog ${n} plekken`),
    full: (waiting: number) => `vol, ${waiting} op de wachtlijst`,
    title: 'Sessies',
    placed: 'Je hebt een plek',
    waitlisted: (n: number) => `Op de wachtlijst, plaats ${n}`,
    pending: 'Telt mee zodra je een plek bij de bijeenkomst hebt',
    save: 'Sessies opslaan',
    saved: 'Je sessies zijn opgeslagen.',
    invalid: 'Kies alleen sessies van deze bijeenkomst, en per tijdvak één.',
    closed: 'Je sessies kunnen niet meer worden gewijzigd.',
  },
  en: {
    legend: 'Sessions (choose one per time slot)',
    intro: 'If a session is full you join its waitlist and move up when a place comes free.',
    free: (n: number) => (n === 1 ? '1 place left' : `${n} places left`),
    full: (waiting: number) => `full, ${waiting} on the waitlist`,
    title: 'Sessions',
    placed: 'You have a place',
    waitlisted: (n: number) => `On the waitlist, position ${n}`,
    pending: 'Counts once you have a seat at the meeting',
    save: 'Save sessions',
    saved: 'Your sessions are saved.',
    invalid: 'Choose only sessions of this meeting, and one per time slot.',
    closed: 'Your sessions can no longer be changed.',
  },
} as const;

export const sessionMessages = (lang: Language) => sessionTexts[lang];

/** The session ids ticked in a form post. */
export function sessionIdsFromForm(form: Record<string, string>): string[] {
  return Object.keys(form)
    .filter((k) => k.startsWith(FIELD_PREFIX) && form[k] === 'ja')
    .map((k) => k.slice(FIELD_PREFIX.length));
}

function timesOf(session: PublicSession, timeZone: string, lang: Language): string {
  const format = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
  });
  return `${format.format(new Date(session.startsAt))}–${format.format(new Date(session.endsAt))}`;
}

function placesOf(session: PublicSession, lang: Language): string {
  const t = sessionTexts[lang];
  return session.placesAvailable > 0 ? t.free(session.placesAvailable) : t.full(session.waitlistLength);
}

function box(
  session: PublicSession,
  timeZone: string,
  lang: Language,
  checked: boolean,
  note: string | null,
) {
  const id = `${FIELD_PREFIX}${session.id}`;
  const label = `${timesOf(session, timeZone, lang)} ${session.title} (${placesOf(session, lang)})`;
  return `<label class="check" for="${h(id)}"><input type="checkbox" id="${h(id)}" name="${h(id)}" value="ja"${
    checked ? ' checked' : ''
  }> <span>${h(label)}${note ? `<br><strong>${h(note)}</strong>` : ''}${
    session.description ? `<br>${h(session.description)}` : ''
  }</span></label>`;
}

function fieldset(lang: Language, boxes: string[], error: string | undefined): string {
  const t = sessionTexts[lang];
  return `<fieldset id="sessionIds"${error ? ' aria-describedby="sessionIds-error"' : ''}>
<legend>${h(t.legend)}</legend>
<p>${h(t.intro)}</p>
${error ? `<p class="error" id="sessionIds-error">${h(error)}</p>` : ''}
${boxes.join('\n')}
</fieldset>`;
}

/** The sessions on the registration form, ticked as the post had them; empty when the meeting has none. */
export function sessionsFormFields(input: {
  lang: Language;
  timeZone: string;
  sessions: readonly PublicSession[];
  values: Record<string, string | undefined>;
  errors: Record<string, string>;
}): string {
  if (input.sessions.length === 0) return '';
  const boxes = input.sessions.map((s) =>
    box(s, input.timeZone, input.lang, input.values[`${FIELD_PREFIX}${s.id}`] === 'ja', null),
  );
  return fieldset(input.lang, boxes, input.errors.sessionIds);
}

/** The manage page's own form for the attendee's sessions; empty when the meeting has none. */
export function manageSessionsSection(input: {
  lang: Language;
  timeZone: string;
  sessions: readonly OwnSession[];
  action: string;
  guard: FormGuard;
  errors: Record<string, string>;
}): string {
  if (input.sessions.length === 0) return '';
  const t = sessionTexts[input.lang];
  const note = (s: OwnSession) =>
    s.choice === 'placed'
      ? t.placed
      : s.choice === 'waitlisted'
        ? t.waitlisted(s.position ?? 0)
        : s.choice === 'pending'
          ? t.pending
          : null;
  const boxes = input.sessions.map((s) => box(s, input.timeZone, input.lang, s.choice !== null, note(s)));
  return `<h2>${h(t.title)}</h2>
<form method="post" action="${h(input.action)}">
<input type="hidden" name="language" value="${input.lang}">
<input type="hidden" name="csrf" value="${h(input.guard.csrf)}">
${fieldset(input.lang, boxes, input.errors.sessionIds)}
<button type="submit">${h(t.save)}</button>
</form>`;
}
