import type { Language } from '@citydeals/contracts';
import type { FormGuard, FormValues } from '../pages/page.views.ts';
import { h } from '../pages/page.views.ts';
import {
  ANSWER_MAX_LENGTH,
  type AnswerValue,
  answerText,
  type Issue,
  type Question,
} from './question.rules.ts';

/**
 * The questions of a meeting on its public form and on the manage page, server-rendered like the rest of
 * the pages. Form fields are named `answers.<question id>` (one per checkbox of several choices:
 * `answers.<question id>.<choice id>`), so a plain form post carries them without JavaScript.
 */

const words = {
  nl: {
    title: 'Vragen van de organisatie',
    yours: 'Jouw antwoorden',
    none: 'Niet beantwoord',
    change: 'Antwoorden wijzigen',
    save: 'Antwoorden opslaan',
    saved: 'Je antwoorden zijn opgeslagen.',
    required: 'verplicht',
    yes: 'Ja',
    no: 'Nee',
    missing: 'Beantwoord deze vraag.',
    wrong: 'Dit antwoord past niet bij de vraag (te lang, of geen keuze uit de lijst).',
  },
  en: {
    title: 'Questions from the organisers',
    yours: 'Your answers',
    none: 'Not answered',
    change: 'Change your answers',
    save: 'Save answers',
    saved: 'Your answers have been saved.',
    required: 'required',
    yes: 'Yes',
    no: 'No',
    missing: 'Please answer this question.',
    wrong: 'This answer does not fit the question (too long, or not one of the choices).',
  },
} as const;

export const answersSaved = (lang: Language) => words[lang].saved;

const fieldName = (question: Question) => `answers.${question.id}`;
/** The id of the element a problem with the answer links to. */
const elementId = (questionId: string) => `q-${questionId}`;

/** What a form post says about the questions, as the answers the API takes. */
export function answersFromForm(
  questions: readonly Question[],
  form: Record<string, string | undefined>,
): Record<string, unknown> {
  const answers: Record<string, unknown> = {};
  for (const question of questions) {
    const value = form[fieldName(question)];
    switch (question.kind) {
      case 'several_choices':
        answers[question.id] = question.choices
          .filter((c) => form[`${fieldName(question)}.${c.id}`] === 'ja')
          .map((c) => c.id);
        break;
      case 'yes_no':
        answers[question.id] = value === 'ja' ? true : value === 'nee' ? false : (value ?? null);
        break;
      default:
        answers[question.id] = value ?? null;
    }
  }
  return answers;
}

/** Problems with answers (fields `answers.<id>`, with or without `body.`) as messages next to the questions. */
export function answerErrors(lang: Language, issues: readonly Issue[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const id = /^(?:body\.)?answers\.(.+)$/.exec(issue.field)?.[1];
    if (!id) continue;
    errors[elementId(id)] ??= issue.message === 'is required' ? words[lang].missing : words[lang].wrong;
  }
  return errors;
}

/** The values a form shows for a person's answers as kept (the inverse of `answersFromForm`). */
export function formValuesOf(questions: readonly (Question & { answer: AnswerValue | null })[]): FormValues {
  const values: FormValues = {};
  for (const q of questions) {
    if (q.answer === null) continue;
    if (Array.isArray(q.answer)) for (const c of q.answer) values[`${fieldName(q)}.${c}`] = 'ja';
    else if (typeof q.answer === 'boolean') values[fieldName(q)] = q.answer ? 'ja' : 'nee';
    else values[fieldName(q)] = q.answer;
  }
  return values;
}

function option(input: {
  type: 'radio' | 'checkbox';
  id: string;
  name: string;
  value: string;
  label: string;
  checked: boolean;
  describedBy: string | null;
}) {
  const attrs = `${input.checked ? ' checked' : ''}${input.describedBy ? ` aria-describedby="${input.describedBy}"` : ''}`;
  return `<label class="check" for="${h(input.id)}"><input type="${input.type}" id="${h(input.id)}" name="${h(input.name)}" value="${h(input.value)}"${attrs}> <span>${h(input.label)}</span></label>`;
}

function questionField(
  lang: Language,
  question: Question,
  values: FormValues,
  errors: Record<string, string>,
): string {
  const w = words[lang];
  const id = elementId(question.id);
  const name = fieldName(question);
  const error = errors[id];
  const errorId = `${id}-error`;
  const message = error ? `<p class="error" id="${errorId}">${h(error)}</p>` : '';
  const req = question.required ? ` <span class="req">(${h(w.required)})</span>` : '';
  const title = `${h(question.label[lang])}${req}`;
  const invalid = error ? ` aria-invalid="true" aria-describedby="${errorId}"` : '';
  const required = question.required ? ' aria-required="true"' : '';
  if (question.kind === 'short_text' || question.kind === 'long_text') {
    const max = ANSWER_MAX_LENGTH[question.kind];
    const control =
      question.kind === 'short_text'
        ? `<input type="text" id="${id}" name="${h(name)}" maxlength="${max}" value="${h(values[name])}"${required}${invalid}>`
        : `<textarea id="${id}" name="${h(name)}" rows="4" maxlength="${max}"${required}${invalid}>${h(values[name])}</textarea>`;
    return `<label for="${id}">${title}</label>\n${message}\n${control}`;
  }
  const describedBy = error ? errorId : null;
  const options =
    question.kind === 'yes_no'
      ? [
          ['ja', w.yes],
          ['nee', w.no],
        ].map(([value, label]) =>
          option({
            type: 'radio',
            id: `${id}-${value}`,
            name,
            value: value!,
            label: label!,
            checked: values[name] === value,
            describedBy,
          }),
        )
      : question.choices.map((c) =>
          question.kind === 'one_choice'
            ? option({
                type: 'radio',
                id: `${id}-${c.id}`,
                name,
                value: c.id,
                label: c.label[lang],
                checked: values[name] === c.id,
                describedBy,
              })
            : option({
                type: 'checkbox',
                id: `${id}-${c.id}`,
                name: `${name}.${c.id}`,
                value: 'ja',
                label: c.label[lang],
                checked: values[`${name}.${c.id}`] === 'ja',
                describedBy,
              }),
        );
  return `<fieldset id="${id}"><legend>${title}</legend>\n${message}\n${options.join('\n')}\n</fieldset>`;
}

/** The questions as fields of the registration form; nothing when the meeting asks none. */
export function questionFields(
  lang: Language,
  questions: readonly Question[],
  values: FormValues,
  errors: Record<string, string>,
): string {
  if (questions.length === 0) return '';
  return `<h3>${h(words[lang].title)}</h3>
${questions.map((q) => questionField(lang, q, values, errors)).join('\n')}`;
}

/**
 * The manage page's part: the person's answers, and (while the registration is live) a form to change
 * them, filled in with what they answered or, after a refused change, with what they sent.
 */
export function manageAnswers(input: {
  lang: Language;
  questions: readonly (Question & { answer: AnswerValue | null })[];
  changeable: boolean;
  action: string;
  guard: FormGuard;
  values: FormValues | null;
  errors: Record<string, string>;
}): string {
  const { lang, questions } = input;
  if (questions.length === 0) return '';
  const w = words[lang];
  const list = questions
    .map(
      (q) =>
        `<dt>${h(q.label[lang])}</dt><dd>${h(q.answer === null ? w.none : answerText(q, q.answer, lang))}</dd>`,
    )
    .join('\n');
  const form = input.changeable
    ? `<h3>${h(w.change)}</h3>
<form method="post" action="${h(input.action)}" novalidate>
<input type="hidden" name="language" value="${lang}">
<input type="hidden" name="csrf" value="${h(input.guard.csrf)}">
${questions.map((q) => questionField(lang, q, input.values ?? formValuesOf(questions), input.errors)).join('\n')}
<button type="submit">${h(w.save)}</button>
</form>`
    : '';
  return `<h2>${h(w.yours)}</h2>
<dl class="answers">
${list}
</dl>
${form}`;
}
