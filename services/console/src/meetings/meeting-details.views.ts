import { html, type SafeHtml } from '../web/html.ts';
import type { Language } from '../web/texts.ts';
import type { FieldErrors } from './meeting.views.ts';
import {
  AGENDA_EMPTY_ROWS,
  AGENDA_ROWS_MAX,
  agendaKinds,
  type MeetingDetailValues,
  reminderChoices,
} from './meeting-details.rules.ts';

const words = {
  nl: {
    language: 'Taal van de bijeenkomst (agenda en mails)',
    languages: { nl: 'Nederlands', en: 'Engels' },
    agenda: 'Agenda',
    agendaHint:
      'Tijd en onderwerp per onderdeel, in de taal van de bijeenkomst. Lege regels worden overgeslagen.',
    // Not "Titel": the meeting's own title field carries that label.
    time: (n: number) => `Onderdeel ${n}: tijd`,
    title: (n: number) => `Onderdeel ${n}: onderwerp`,
    kind: (n: number) => `Onderdeel ${n}: soort`,
    kinds: {
      plenary: 'plenair',
      presentation: 'presentatie',
      workshop: 'werksessie',
      break: 'pauze',
      drinks: 'borrel',
      other: 'anders',
    } as Record<string, string>,
    reminders: 'Herinneringen (voor de start)',
    choices: {
      P28D: '4 weken',
      P14D: '2 weken',
      P7D: '1 week',
      P3D: '3 dagen',
      P2D: '2 dagen',
      P1D: '1 dag',
      PT12H: '12 uur',
      PT4H: '4 uur',
      PT2H: '2 uur',
      PT1H: '1 uur',
    } as Record<string, string>,
    other: 'Andere tijden (ISO 8601, bijv. P10D of PT3H; hoogstens 90 dagen)',
    window: 'Aanmelden (leeg: meteen open, tot de start)',
    opens: 'Aanmelden opent',
    closes: 'Aanmelden sluit',
  },
  en: {
    language: 'Language of the meeting (agenda and mails)',
    languages: { nl: 'Dutch', en: 'English' },
    agenda: 'Agenda',
    agendaHint: 'Time and subject per item, in the language of the meeting. Empty rows are skipped.',
    time: (n: number) => `Item ${n}: time`,
    title: (n: number) => `Item ${n}: subject`,
    kind: (n: number) => `Item ${n}: kind`,
    kinds: {
      plenary: 'plenary',
      presentation: 'presentation',
      workshop: 'workshop',
      break: 'break',
      drinks: 'drinks',
      other: 'other',
    } as Record<string, string>,
    reminders: 'Reminders (before the start)',
    choices: {
      P28D: '4 weeks',
      P14D: '2 weeks',
      P7D: '1 week',
      P3D: '3 days',
      P2D: '2 days',
      P1D: '1 day',
      PT12H: '12 hours',
      PT4H: '4 hours',
      PT2H: '2 hours',
      PT1H: '1 hour',
    } as Record<string, string>,
    other: 'Other times (ISO 8601, e.g. P10D or PT3H; at most 90 days)',
    window: 'Registration (empty: open at once, until the start)',
    opens: 'Registration opens',
    closes: 'Registration closes',
  },
};

const invalid = (id: string, errors: FieldErrors) =>
  errors[id] ? html` aria-invalid="true" aria-describedby="${id}-error"` : '';
const errorOf = (id: string, errors: FieldErrors) =>
  errors[id] ? html`<p class="error" id="${id}-error">${errors[id]}</p>` : '';

/**
 * The agenda, reminders, language and registration window as parts of the create and edit forms: plain
 * fields, so they work without script; a problem registration names is shown beside its field.
 */
export function meetingDetailsFields(lang: Language, v: MeetingDetailValues, e: FieldErrors): SafeHtml {
  const w = words[lang];
  const rows = Math.min(AGENDA_ROWS_MAX, v.agenda.length + AGENDA_EMPTY_ROWS);
  const agendaRow = (i: number) => {
    const row = v.agenda[i] ?? { time: '', title: '', kind: 'plenary' };
    const n = i + 1;
    const [time, title, kind] = [`agendaTime${i}`, `agendaTitle${i}`, `agendaKind${i}`];
    return html`<div class="agenda-row${e[time] || e[title] || e[kind] ? ' invalid' : ''}">
<div><label for="${time}">${w.time(n)}</label><input id="${time}" name="${time}" type="time" value="${row.time}"${invalid(time, e)}>${errorOf(time, e)}</div>
<div><label for="${title}">${w.title(n)}</label><input id="${title}" name="${title}" maxlength="200" value="${row.title}"${invalid(title, e)}>${errorOf(title, e)}</div>
<div><label for="${kind}">${w.kind(n)}</label><select id="${kind}" name="${kind}"${invalid(kind, e)}>${agendaKinds.map(
      (k) => html`<option value="${k}"${row.kind === k ? html` selected` : ''}>${w.kinds[k]}</option>`,
    )}</select>${errorOf(kind, e)}</div>
</div>`;
  };
  return html`<div class="field${e.language ? ' invalid' : ''}">
<label for="language">${w.language}</label>
<select id="language" name="language"${invalid('language', e)}>${(['nl', 'en'] as const).map(
    (l) => html`<option value="${l}"${v.language === l ? html` selected` : ''}>${w.languages[l]}</option>`,
  )}</select>
${errorOf('language', e)}
</div>
<fieldset class="agenda" aria-describedby="agenda-hint${e.agenda ? ' agenda-error' : ''}">
<legend>${w.agenda}</legend>
<p id="agenda-hint" class="hint">${w.agendaHint}</p>
${errorOf('agenda', e)}
${Array.from({ length: rows }, (_, i) => agendaRow(i))}
</fieldset>
<fieldset class="reminders${e.reminders ? ' invalid' : ''}"${e.reminders ? html` aria-describedby="reminders-error"` : ''}>
<legend>${w.reminders}</legend>
<div class="choices">${reminderChoices.map(
    (o) =>
      html`<div class="check"><input type="checkbox" id="reminder${o}" name="reminder${o}" value="1"${v.reminders.includes(o) ? html` checked` : ''}><label for="reminder${o}">${w.choices[o]}</label></div>`,
  )}</div>
<label for="reminderOther">${w.other}</label>
<input id="reminderOther" name="reminderOther" value="${v.reminderOther}" maxlength="200"${invalid('reminders', e)}>
${errorOf('reminders', e)}
</fieldset>
<fieldset class="window">
<legend>${w.window}</legend>
<div class="field${e.registrationOpensAt ? ' invalid' : ''}"><label for="registrationOpensAt">${w.opens}</label>
<input id="registrationOpensAt" name="registrationOpensAt" type="datetime-local" value="${v.registrationOpensAt}"${invalid('registrationOpensAt', e)}>
${errorOf('registrationOpensAt', e)}</div>
<div class="field${e.registrationClosesAt ? ' invalid' : ''}"><label for="registrationClosesAt">${w.closes}</label>
<input id="registrationClosesAt" name="registrationClosesAt" type="datetime-local" value="${v.registrationClosesAt}"${invalid('registrationClosesAt', e)}>
${errorOf('registrationClosesAt', e)}</div>
</fieldset>`;
}

/** Served after the console's own stylesheet (see static.routes.ts). */
export const meetingDetailsCss = `
fieldset {
  border: 1px solid var(--line);
  border-radius: 4px;
  padding: 0.5rem;
  min-width: 0;
  display: grid;
  gap: 0.5rem;
}
.hint {
  margin: 0;
  color: #555;
  font-size: 0.875rem;
}
.agenda-row {
  display: grid;
  grid-template-columns: minmax(0, 7rem) minmax(0, 1fr);
  gap: 0.25rem 0.5rem;
  padding-bottom: 0.5rem;
  border-bottom: 1px dashed var(--line);
}
.agenda-row > div {
  display: grid;
  min-width: 0;
}
.agenda-row > div:nth-child(2) {
  grid-column: 2;
}
.agenda-row > div:nth-child(3) {
  grid-column: 1 / -1;
}
.agenda-row.invalid input,
fieldset.invalid input,
.field.invalid select {
  border-color: var(--error);
}
.choices {
  display: flex;
  flex-wrap: wrap;
  gap: 0.25rem 1rem;
}
`;
