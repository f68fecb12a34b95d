import { z } from 'zod';
import { MAX_CHOICES, questionKinds } from './question.rules.ts';

const label = z
  .object({
    nl: z.string().trim().min(1).max(300).describe('Dutch'),
    en: z.string().trim().min(1).max(300).describe('English'),
  })
  .strict();

const choiceId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'lowercase letters, digits, - and _, at most 40')
  .describe('Stable id of the choice: what answers name');

const choiceInput = z
  .object({
    id: choiceId.optional().describe('Given by the service when left out; keep it when changing a choice'),
    label,
  })
  .strict();

const questionFields = {
  kind: z.enum(questionKinds),
  required: z.boolean(),
  label,
  choices: z.array(choiceInput).max(MAX_CHOICES).describe('Only for one_choice and several_choices'),
  position: z.int().min(0).max(1000).describe('Order on the form, lowest first; new questions go last'),
};

export const newQuestionBody = z
  .object({
    ...questionFields,
    required: questionFields.required.default(false),
    choices: questionFields.choices.default([]),
    position: questionFields.position.optional(),
  })
  .strict()
  .meta({
    example: {
      kind: 'one_choice',
      required: true,
      label: { nl: 'Welke sessie kiest u?', en: 'Which session do you choose?' },
      choices: [
        { id: 'mobiliteit', label: { nl: 'Mobiliteit', en: 'Mobility' } },
        { id: 'energie', label: { nl: 'Energie', en: 'Energy' } },
      ],
    },
  });
export type NewQuestionInput = z.output<typeof newQuestionBody>;

export const changeQuestionBody = z
  .object(questionFields)
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .meta({ example: { required: false, label: { nl: 'Welke sessie?', en: 'Which session?' } } });
export type ChangeQuestionInput = z.output<typeof changeQuestionBody>;

export const questionParams = z.object({
  id: z.uuid().describe('Meeting id'),
  questionId: z.uuid().describe('Question id'),
});

const labelOut = z.object({ nl: z.string(), en: z.string() });

export const questionSchema = z
  .object({
    id: z.uuid(),
    position: z.int(),
    kind: z.enum(questionKinds),
    required: z.boolean(),
    label: labelOut,
    choices: z.array(z.object({ id: z.string(), label: labelOut })),
  })
  .meta({
    example: {
      id: '01936b30-0a1b-7c2d-8e3f-405162738495',
      position: 0,
      kind: 'yes_no',
      required: true,
      label: { nl: 'Blijft u voor de borrel?', en: 'Will you stay for drinks?' },
      choices: [],
    },
  });

export const adminQuestionSchema = questionSchema.extend({
  answers: z.int().describe('Registrations that answered it'),
});

/** An answer: text, a choice id, a list of choice ids, or yes (true) / no (false); null or blank: none. */
export const answerValueSchema = z.union([
  z.string().max(5000),
  z.array(z.string().max(100)).max(MAX_CHOICES),
  z.boolean(),
  z.null(),
]);

export const answersSchema = z
  .record(z.string().max(100), answerValueSchema)
  .describe(
    'Answers to the questions of the meeting (GET /meetings/{id}/questions), by question id: text, the id ' +
      'of a choice, a list of choice ids, or true/false',
  );

export const answersBody = z
  .object({ answers: answersSchema })
  .strict()
  .meta({
    example: {
      answers: { '01936b30-0a1b-7c2d-8e3f-405162738495': true },
    },
  });

export const ownAnswersSchema = z.object({
  questions: z.array(
    questionSchema.extend({
      answer: z
        .union([z.string(), z.array(z.string()), z.boolean()])
        .nullable()
        .describe('Null when not answered'),
    }),
  ),
});
