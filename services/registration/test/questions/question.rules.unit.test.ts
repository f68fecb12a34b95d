import t from 'tap';
import {
  answerText,
  checkAnswers,
  decideChange,
  definitionIssues,
  type Question,
} from '../../src/questions/question.rules.ts';

const label = (nl: string, en = nl) => ({ nl, en });
const q = (id: string, kind: Question['kind'], required = false, choices: string[] = []): Question => ({
  id,
  kind,
  required,
  label: label(id),
  choices: choices.map((c) => ({ id: c, label: label(c.toUpperCase(), `${c} (en)`) })),
});

const questions = [
  q('short', 'short_text', true),
  q('long', 'long_text'),
  q('one', 'one_choice', true, ['a', 'b']),
  q('many', 'several_choices', false, ['x', 'y', 'z']),
  q('yn', 'yes_no', true),
];
const good = { short: ' Wonen ', one: 'b', yn: false };

t.test('given good answers, when checked, then they are kept normalised', async (t) => {
  t.same(checkAnswers(questions, good), { ok: true, answers: { short: 'Wonen', one: 'b', yn: false } });
  t.same(
    checkAnswers(questions, { ...good, long: '  ', many: [] }),
    {
      ok: true,
      answers: { short: 'Wonen', one: 'b', yn: false },
    },
    'blank optional answers are no answers',
  );
  t.same(
    checkAnswers(questions, { ...good, many: ['z', 'x', 'z'] }),
    {
      ok: true,
      answers: { short: 'Wonen', one: 'b', yn: false, many: ['x', 'z'] },
    },
    'several choices in question order, once each',
  );
  t.same(checkAnswers([], {}), { ok: true, answers: {} }, 'a meeting without questions takes no answers');
});

t.test('given bad answers, when checked, then each names its question', async (t) => {
  const issue = (given: Record<string, unknown>) => {
    const check = checkAnswers(questions, given);
    return check.ok ? [] : check.issues;
  };
  t.same(issue({ ...good, short: undefined }), [{ field: 'answers.short', message: 'is required' }]);
  t.same(issue({ ...good, short: '  ' }), [{ field: 'answers.short', message: 'is required' }]);
  t.same(issue({ ...good, yn: null }), [{ field: 'answers.yn', message: 'is required' }]);
  t.same(issue({ ...good, short: 'x'.repeat(201) }), [
    { field: 'answers.short', message: 'must be at most 200 characters' },
  ]);
  t.same(issue({ ...good, short: ` ${'x'.repeat(200)} ` }), [], 'the limit counts the trimmed text');
  t.same(issue({ ...good, long: 'x'.repeat(2001) }), [
    { field: 'answers.long', message: 'must be at most 2000 characters' },
  ]);
  t.same(issue({ ...good, one: 'c' }), [{ field: 'answers.one', message: 'is not a choice: c' }]);
  t.same(issue({ ...good, one: ['a'] }), [{ field: 'answers.one', message: 'must be the id of one choice' }]);
  t.same(issue({ ...good, many: ['x', 'q'] }), [{ field: 'answers.many', message: 'not a choice: q' }]);
  t.same(issue({ ...good, many: 'x' }), [{ field: 'answers.many', message: 'must be a list of choice ids' }]);
  t.same(issue({ ...good, yn: 'ja' }), [
    { field: 'answers.yn', message: 'must be true (yes) or false (no)' },
  ]);
  t.same(issue({ ...good, short: 3 }), [{ field: 'answers.short', message: 'must be text' }]);
  t.same(issue({ ...good, other: 'x' }), [
    { field: 'answers.other', message: 'is not a question of this meeting' },
  ]);
  t.same(
    issue({}).map((i) => i.field),
    ['answers.short', 'answers.one', 'answers.yn'],
    'every missing required answer at once',
  );
});

t.test('question definitions', async (t) => {
  const choices = (...ids: string[]) => ids.map((id) => ({ id, label: label(id) }));
  t.same(definitionIssues({ kind: 'one_choice', choices: choices('a', 'b') }), []);
  t.same(definitionIssues({ kind: 'yes_no', choices: [] }), []);
  t.same(definitionIssues({ kind: 'one_choice', choices: choices('a') }), [
    { field: 'choices', message: 'a choice question needs at least two choices' },
  ]);
  t.same(definitionIssues({ kind: 'several_choices', choices: choices('a', 'b', 'a') }), [
    { field: 'choices.2.id', message: 'is used twice' },
  ]);
  t.same(definitionIssues({ kind: 'short_text', choices: choices('a', 'b') }), [
    { field: 'choices', message: 'a short_text question has no choices' },
  ]);
});

t.test('what may change once a question is answered', async (t) => {
  const choices = (...ids: string[]) => ids.map((id) => ({ id, label: label(id) }));
  const none = { answers: 0, chosen: new Set<string>() };
  const some = { answers: 2, chosen: new Set(['a']) };
  t.same(decideChange({ kind: 'short_text' }, { kind: 'long_text', choices: [] }, none), { ok: true });
  t.match(decideChange({ kind: 'short_text' }, { kind: 'long_text', choices: [] }, some), {
    ok: false,
    field: 'kind',
  });
  t.same(
    decideChange({ kind: 'one_choice' }, { kind: 'one_choice', choices: choices('a', 'c') }, some),
    {
      ok: true,
    },
    'an unchosen choice may go',
  );
  t.match(decideChange({ kind: 'one_choice' }, { kind: 'one_choice', choices: choices('b', 'c') }, some), {
    ok: false,
    field: 'choices',
    reason: /: a$/,
  });
});

t.test('answers as a person reads them', async (t) => {
  const [, , one, many, yn] = questions as [Question, Question, Question, Question, Question];
  t.equal(answerText(one, 'b', 'nl'), 'B');
  t.equal(answerText(one, 'b', 'en'), 'b (en)');
  t.equal(answerText(many, ['x', 'z'], 'nl'), 'X, Z');
  t.equal(answerText(yn, true, 'nl'), 'ja');
  t.equal(answerText(yn, false, 'en'), 'no');
  t.equal(answerText(questions[0]!, 'Wonen', 'en'), 'Wonen');
});
