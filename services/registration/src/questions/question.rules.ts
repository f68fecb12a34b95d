/**
 * Pure rules of the questions a meeting's registration form asks: what a question may look like, what an
 * answer to it may be, and what may change once people have answered. No I/O.
 */

export const questionKinds = ['short_text', 'long_text', 'one_choice', 'several_choices', 'yes_no'] as const;
export type QuestionKind = (typeof questionKinds)[number];

/** Longest text answer, per kind: a line, or a few paragraphs. */
export const ANSWER_MAX_LENGTH = { short_text: 200, long_text: 2000 } as const;

/** A form longer than this is not a registration form any more. */
export const MAX_QUESTIONS = 20;
export const MAX_CHOICES = 20;

export interface Label {
  nl: string;
  en: string;
}

export interface Question {
  id: string;
  kind: QuestionKind;
  required: boolean;
  label: Label;
  choices: { id: string; label: Label }[];
}

/** An answer as kept: text, the id of the choice, the ids of the choices, or yes (true) / no (false). */
export type AnswerValue = string | string[] | boolean;

/** Field of a problem: relative to the body (`answers.<question id>`) or to a question definition. */
export interface Issue {
  field: string;
  message: string;
}

const hasChoices = (kind: QuestionKind) => kind === 'one_choice' || kind === 'several_choices';

/** What is wrong with a question's definition as a whole (the shape of each part is the schema's). */
export function definitionIssues(definition: Pick<Question, 'kind' | 'choices'>): Issue[] {
  const issues: Issue[] = [];
  if (hasChoices(definition.kind)) {
    if (definition.choices.length < 2)
      issues.push({ field: 'choices', message: 'a choice question needs at least two choices' });
    const seen = new Set<string>();
    for (const [i, choice] of definition.choices.entries()) {
      if (seen.has(choice.id)) issues.push({ field: `choices.${i}.id`, message: 'is used twice' });
      seen.add(choice.id);
    }
  } else if (definition.choices.length > 0) {
    issues.push({ field: 'choices', message: `a ${definition.kind} question has no choices` });
  }
  return issues;
}

/** What the answers given so far tie a question to. */
export interface AnsweredState {
  /** How many registrations answered it. */
  answers: number;
  /** Choice ids that appear in at least one answer. */
  chosen: ReadonlySet<string>;
}

export type ChangeDecision = { ok: true } | { ok: false; field: string; reason: string };

/**
 * Once someone answered, the kind stays (their answer would not fit another kind) and a choice someone
 * took stays (their answer would point at nothing); labels, order, other choices and `required` may change.
 * A question made required later does not make earlier registrations incomplete: it is asked of those who
 * register or change their answers after.
 */
export function decideChange(
  current: Pick<Question, 'kind'>,
  next: Pick<Question, 'kind' | 'choices'>,
  answered: AnsweredState,
): ChangeDecision {
  if (answered.answers === 0) return { ok: true };
  if (next.kind !== current.kind)
    return { ok: false, field: 'kind', reason: 'the kind of a question cannot change once it is answered' };
  const kept = new Set(next.choices.map((c) => c.id));
  const dropped = [...answered.chosen].filter((id) => !kept.has(id));
  if (dropped.length > 0)
    return {
      ok: false,
      field: 'choices',
      reason: `choices people chose cannot be removed: ${dropped.join(', ')}`,
    };
  return { ok: true };
}

const isEmpty = (value: unknown) =>
  value === undefined ||
  value === null ||
  (typeof value === 'string' && value.trim() === '') ||
  (Array.isArray(value) && value.length === 0);

function answerTo(question: Question, value: unknown): { value: AnswerValue } | { message: string } {
  switch (question.kind) {
    case 'short_text':
    case 'long_text': {
      if (typeof value !== 'string') return { message: 'must be text' };
      const text = value.trim();
      const max = ANSWER_MAX_LENGTH[question.kind];
      if (text.length > max) return { message: `must be at most ${max} characters` };
      return { value: text };
    }
    case 'one_choice': {
      if (typeof value !== 'string') return { message: 'must be the id of one choice' };
      if (!question.choices.some((c) => c.id === value)) return { message: `is not a choice: ${value}` };
      return { value };
    }
    case 'several_choices': {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
        return { message: 'must be a list of choice ids' };
      const wrong = value.filter((v) => !question.choices.some((c) => c.id === v));
      if (wrong.length > 0) return { message: `not a choice: ${wrong.join(', ')}` };
      // In the order of the question, once each.
      return { value: question.choices.map((c) => c.id).filter((id) => value.includes(id)) };
    }
    case 'yes_no':
      if (typeof value !== 'boolean') return { message: 'must be true (yes) or false (no)' };
      return { value };
  }
}

export type AnswersCheck =
  | { ok: true; answers: Record<string, AnswerValue> }
  | { ok: false; issues: Issue[] };

/**
 * Checks a whole set of answers against the questions a meeting asks now: every key a question of the
 * meeting, every value fitting its question, every required question answered. Empty answers (blank text,
 * no choice) are left out of what is kept, so "not answered" has one form.
 */
export function checkAnswers(questions: readonly Question[], given: Record<string, unknown>): AnswersCheck {
  const issues: Issue[] = [];
  const byId = new Map(questions.map((q) => [q.id, q]));
  for (const id of Object.keys(given)) {
    if (!byId.has(id)) issues.push({ field: `answers.${id}`, message: 'is not a question of this meeting' });
  }
  const answers: Record<string, AnswerValue> = {};
  for (const question of questions) {
    const field = `answers.${question.id}`;
    const value = given[question.id];
    if (isEmpty(value)) {
      if (question.required) issues.push({ field, message: 'is required' });
      continue;
    }
    const checked = answerTo(question, value);
    if ('message' in checked) issues.push({ field, message: checked.message });
    else if (!isEmpty(checked.value)) answers[question.id] = checked.value;
    else if (question.required) issues.push({ field, message: 'is required' });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, answers };
}

/** An answer as a person reads it, in their language: the text, the choices' labels, yes or no. */
export function answerText(question: Question, value: AnswerValue, lang: 'nl' | 'en'): string {
  if (typeof value === 'boolean')
    return value ? (lang === 'nl' ? 'ja' : 'yes') : lang === 'nl' ? 'nee' : 'no';
  const label = (id: string) => question.choices.find((c) => c.id === id)?.label[lang] ?? id;
  if (Array.isArray(value)) return value.map(label).join(', ');
  return hasChoices(question.kind) ? label(value) : value;
}
