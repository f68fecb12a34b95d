import { html, type SafeHtml } from '../web/html.ts';
import type { Language } from '../web/texts.ts';
import type { FieldErrors } from './meeting.views.ts';

/** A question as registration's admin API gives it. */
export interface AdminQuestion {
  id: string;
  position: number;
  kind: 'short_text' | 'long_text' | 'one_choice' | 'several_choices' | 'yes_no';
  required: boolean;
  label: { nl: string; en: string };
  choices: { id: string; label: { nl: string; en: string } }[];
  answers: number;
}

export interface QuestionFormValues {
  kind: string;
  required: boolean;
  labelNl: string;
  labelEn: string;
  choices: string;
}

export const emptyQuestion: QuestionFormValues = {
  kind: 'short_text',
  required: false,
  labelNl: '',
  labelEn: '',
  choices: '',
};

const nl = {
  title: (meeting: string) => `Vragen – ${meeting}`,
  back: 'Terug naar de bijeenkomst',
  intro:
    'Deze vragen staan op het aanmeldformulier, in de taal van de bezoeker. Een vraag die al beantwoord is houdt haar soort en de gekozen keuzes; verwijderen wist alle antwoorden erop.',
  none: 'Nog geen vragen.',
  kind: 'Soort',
  kinds: {
    short_text: 'korte tekst',
    long_text: 'lange tekst',
    one_choice: 'één keuze',
    several_choices: 'meerdere keuzes',
    yes_no: 'ja/nee',
  } as Record<string, string>,
  required: 'Verplicht',
  optional: 'niet verplicht',
  answers: (n: number) => (n === 1 ? '1 antwoord' : `${n} antwoorden`),
  labelNl: 'Vraag (Nederlands)',
  labelEn: 'Vraag (Engels)',
  choices: 'Keuzes, één per regel: Nederlands | Engels',
  add: 'Vraag toevoegen',
  remove: 'Verwijderen (met alle antwoorden)',
  added: 'De vraag is toegevoegd.',
  removed: 'De vraag en haar antwoorden zijn verwijderd.',
};
const en: typeof nl = {
  title: (meeting: string) => `Questions – ${meeting}`,
  back: 'Back to the meeting',
  intro:
    'These questions are on the registration form, in the visitor’s language. A question that has answers keeps its kind and the choices taken; removing it deletes every answer to it.',
  none: 'No questions yet.',
  kind: 'Kind',
  kinds: {
    short_text: 'short text',
    long_text: 'long text',
    one_choice: 'one choice',
    several_choices: 'several choices',
    yes_no: 'yes/no',
  },
  required: 'Required',
  optional: 'optional',
  answers: (n: number) => (n === 1 ? '1 answer' : `${n} answers`),
  labelNl: 'Question (Dutch)',
  labelEn: 'Question (English)',
  choices: 'Choices, one per line: Dutch | English',
  add: 'Add question',
  remove: 'Remove (with all answers)',
  added: 'The question was added.',
  removed: 'The question and its answers were removed.',
};
export type QuestionTexts = typeof nl;
export const questionTexts = (lang: Language): QuestionTexts => (lang === 'en' ? en : nl);

/** The choices typed one per line, `Dutch | English` (English may be left out: then the Dutch twice). */
export function choicesOf(text: string) {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [nlLabel = '', enLabel = ''] = line.split('|').map((s) => s.trim());
      return { label: { nl: nlLabel, en: enLabel || nlLabel } };
    });
}

function fieldError(errors: FieldErrors, name: string) {
  return errors[name] ? html`<p class="error" id="${name}-error">${errors[name]}</p>` : '';
}
const invalid = (errors: FieldErrors, name: string) =>
  errors[name] ? html` aria-invalid="true" aria-describedby="${name}-error"` : '';

export function questionsPage(
  qt: QuestionTexts,
  options: {
    meetingId: string;
    questions: readonly AdminQuestion[];
    csrf: string;
    values: QuestionFormValues;
    errors: FieldErrors;
    message?: string | undefined;
  },
): SafeHtml {
  const { meetingId, questions, csrf, values, errors } = options;
  const items = questions.map(
    (q) => html`<li><strong>${q.label.nl}</strong> / ${q.label.en}
<br>${qt.kinds[q.kind]} · ${q.required ? qt.required.toLowerCase() : qt.optional} · ${qt.answers(q.answers)}${
      q.choices.length > 0
        ? html`<br>${q.choices.map((c) => `${c.label.nl} / ${c.label.en}`).join(' · ')}`
        : ''
    }
<form method="post" action="/meetings/${meetingId}/questions/${q.id}/remove" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="danger">${qt.remove}</button></form></li>`,
  );
  return html`${options.message ? html`<p role="status" class="ok">${options.message}</p>` : ''}
<p><a href="/meetings/${meetingId}">${qt.back}</a></p>
<p>${qt.intro}</p>
${questions.length > 0 ? html`<ol class="questions">${items}</ol>` : html`<p>${qt.none}</p>`}
<h2 id="add-question">${qt.add}</h2>
<form method="post" action="/meetings/${meetingId}/questions" aria-labelledby="add-question">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label for="q-kind">${qt.kind}</label>
  ${fieldError(errors, 'kind')}
  <select id="q-kind" name="kind"${invalid(errors, 'kind')}>${Object.entries(qt.kinds).map(
    ([kind, name]) =>
      html`<option value="${kind}"${values.kind === kind ? html` selected` : ''}>${name}</option>`,
  )}</select>
  <label for="q-label-nl">${qt.labelNl}</label>
  ${fieldError(errors, 'labelNl')}
  <input id="q-label-nl" name="labelNl" maxlength="300" required value="${values.labelNl}"${invalid(errors, 'labelNl')}>
  <label for="q-label-en">${qt.labelEn}</label>
  ${fieldError(errors, 'labelEn')}
  <input id="q-label-en" name="labelEn" maxlength="300" required value="${values.labelEn}"${invalid(errors, 'labelEn')}>
  <label for="q-choices">${qt.choices}</label>
  ${fieldError(errors, 'choices')}
  <textarea id="q-choices" name="choices" rows="4"${invalid(errors, 'choices')}>${values.choices}</textarea>
  <label for="q-required"><input id="q-required" name="required" type="checkbox" value="1"${values.required ? html` checked` : ''}> ${qt.required}</label>
  <button type="submit">${qt.add}</button>
</form>`;
}
