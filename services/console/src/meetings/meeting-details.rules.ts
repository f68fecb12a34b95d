import type { FieldErrors } from './meeting.views.ts';

/**
 * The agenda, reminders, language and registration window of a meeting, between the console's form and
 * registration's create and edit calls. Pure: the form's flat fields in, the API's body out, and the API's
 * problem fields back to the form's fields. Registration decides what is valid; the console only carries it.
 */

/** Rows of the agenda form; registration takes at most 50 items. */
export const AGENDA_ROWS_MAX = 50;
/** Empty rows offered below the items a meeting has, so an item can be added without script. */
export const AGENDA_EMPTY_ROWS = 3;

export const agendaKinds = ['plenary', 'presentation', 'workshop', 'break', 'drinks', 'other'] as const;

/**
 * The reminder offsets offered as choices: fixed-length durations within registration's 90 days. Any other
 * duration can be typed (`reminderOther`); registration judges it and its answer names the field.
 */
export const reminderChoices = [
  'P28D',
  'P14D',
  'P7D',
  'P3D',
  'P2D',
  'P1D',
  'PT12H',
  'PT4H',
  'PT2H',
  'PT1H',
] as const;

export interface AgendaRow {
  time: string;
  title: string;
  kind: string;
}

export interface MeetingDetailValues {
  language: 'nl' | 'en';
  agenda: AgendaRow[];
  reminders: string[];
  reminderOther: string;
  registrationOpensAt: string;
  registrationClosesAt: string;
}

export const emptyDetails = (): MeetingDetailValues => ({
  language: 'nl',
  agenda: [],
  reminders: ['P7D', 'P1D'],
  reminderOther: '',
  registrationOpensAt: '',
  registrationClosesAt: '',
});

const str = (value: unknown, max: number) => (typeof value === 'string' ? value.slice(0, max) : '');

/** The form's flat fields (`agendaTime3`, `reminderP7D`, …) as values; unknown keys are ignored. */
export function detailValuesOf(form: Readonly<Record<string, unknown>>): MeetingDetailValues {
  const agenda: AgendaRow[] = [];
  for (let i = 0; i < AGENDA_ROWS_MAX; i++) {
    const row = {
      time: str(form[`agendaTime${i}`], 10),
      title: str(form[`agendaTitle${i}`], 400),
      kind: str(form[`agendaKind${i}`], 20) || 'plenary',
    };
    // Blank rows are the form's spare ones: dropped here, so the values' rows are the items, in order.
    if (row.time.trim() !== '' || row.title.trim() !== '') agenda.push(row);
  }
  return {
    language: form.language === 'en' ? 'en' : 'nl',
    agenda,
    reminders: reminderChoices.filter((o) => form[`reminder${o}`] === '1'),
    reminderOther: str(form.reminderOther, 200),
    registrationOpensAt: str(form.registrationOpensAt, 40),
    registrationClosesAt: str(form.registrationClosesAt, 40),
  };
}

/** The values back as the form's flat fields, for the hidden fields of a confirmation step. */
export function detailFieldsOf(v: MeetingDetailValues): Record<string, string> {
  const fields: Record<string, string> = {
    language: v.language,
    reminderOther: v.reminderOther,
    registrationOpensAt: v.registrationOpensAt,
    registrationClosesAt: v.registrationClosesAt,
  };
  v.agenda.forEach((row, i) => {
    fields[`agendaTime${i}`] = row.time;
    fields[`agendaTitle${i}`] = row.title;
    fields[`agendaKind${i}`] = row.kind;
  });
  for (const o of v.reminders) fields[`reminder${o}`] = '1';
  return fields;
}

const orNull = (value: string) => (value.trim() === '' ? null : value.trim());

/**
 * The values as registration's create and edit calls take them, and for each item of the agenda sent the
 * form row it came from (blank rows are left out, so the API's `agenda.2` may be the form's fourth row).
 */
export function detailsBodyOf(v: MeetingDetailValues) {
  const rows: number[] = [];
  const agenda: AgendaRow[] = [];
  v.agenda.forEach((row, i) => {
    if (row.time.trim() === '' && row.title.trim() === '') return;
    rows.push(i);
    agenda.push({ time: row.time.trim(), title: row.title.trim(), kind: row.kind });
  });
  const typed = v.reminderOther.split(/[\s,;]+/).filter((o) => o !== '');
  return {
    body: {
      language: v.language,
      agenda,
      reminderOffsets: [...v.reminders, ...typed],
      registrationOpensAt: orNull(v.registrationOpensAt),
      registrationClosesAt: orNull(v.registrationClosesAt),
    },
    rows,
  };
}

/**
 * Registration's problem fields for these values beside the form's fields: `body.agenda.1.time` beside the
 * time of the form row that item came from, any reminder offset beside the reminders, the window's times
 * beside themselves. Fields of other parts of the form are left to the meeting form's own mapping.
 */
export function detailErrorsOf(problem: unknown, rows: readonly number[]): FieldErrors {
  const body = problem as { errors?: { field?: string; message?: string }[] } | null;
  const errors: FieldErrors = {};
  for (const e of body?.errors ?? []) {
    const path = (e.field ?? '').replace(/^body\./, '').split('.');
    const message = e.message ?? 'ongeldig';
    if (path[0] === 'agenda') {
      const row = rows[Number(path[1])];
      const part = path[2] === 'title' ? 'Title' : path[2] === 'kind' ? 'Kind' : 'Time';
      errors[row === undefined ? 'agenda' : `agenda${part}${row}`] ??= message;
    } else if (path[0] === 'reminderOffsets') {
      errors.reminders ??= message;
    } else if (
      path[0] === 'registrationOpensAt' ||
      path[0] === 'registrationClosesAt' ||
      path[0] === 'language'
    ) {
      errors[path[0]] ??= message;
    }
  }
  return errors;
}

/** A meeting as registration shows it, as the form's values; the window in the meeting's wall-clock time. */
export function detailValuesFromMeeting(
  m: {
    language: 'nl' | 'en';
    agenda: readonly AgendaRow[];
    reminderOffsets: readonly string[];
    registrationOpensAt: string | null;
    registrationClosesAt: string | null;
    timeZone: string;
  },
  localInput: (iso: string, timeZone: string) => string,
): MeetingDetailValues {
  const chosen = new Set<string>(reminderChoices);
  return {
    language: m.language,
    agenda: m.agenda.map((a) => ({ time: a.time, title: a.title, kind: a.kind })),
    reminders: m.reminderOffsets.filter((o) => chosen.has(o)),
    reminderOther: m.reminderOffsets.filter((o) => !chosen.has(o)).join(' '),
    registrationOpensAt: m.registrationOpensAt ? localInput(m.registrationOpensAt, m.timeZone) : '',
    registrationClosesAt: m.registrationClosesAt ? localInput(m.registrationClosesAt, m.timeZone) : '',
  };
}

/** The meeting form's own field errors with these values' errors in place of their coarse form. */
export function meetingErrorsOf(base: FieldErrors, problem: unknown, rows: readonly number[]): FieldErrors {
  const details = detailErrorsOf(problem, rows);
  if (Object.keys(details).length === 0) return base;
  const { agenda: _a, reminderOffsets: _r, ...rest } = base;
  return { ...rest, ...details };
}
