import { fileURLToPath } from 'node:url';
import { durationMs } from '@citydeals/calendar';
import type { EmailKind, Language } from '@citydeals/contracts';
import { Eta } from 'eta';
import type { DealNews } from '../deal-news/deal-news.rules.ts';
import { dealNewsView } from '../deal-news/deal-news.view.ts';

export const templatesDir = fileURLToPath(new URL('./templates/', import.meta.url));

// Two engines over the same folder: HTML output escapes every value, plain text must not.
const htmlEngine = withResolvedPaths(new Eta({ views: templatesDir, autoEscape: true, cache: true }));
const textEngine = withResolvedPaths(
  new Eta({ views: templatesDir, autoEscape: false, autoTrim: false, cache: true }),
);

/**
 * Eta caches compiled templates but works out each template's (and include's) file path again on every
 * render, which cost more than the rendering itself; the templates are a fixed set, so the paths are kept.
 */
function withResolvedPaths(engine: Eta): Eta {
  const resolve = engine.resolvePath.bind(engine);
  const resolved = new Map<string, string>();
  engine.resolvePath = (template, options) => {
    const key = `${options?.filepath ?? ''}\0${template}`;
    let path = resolved.get(key);
    if (path === undefined) {
      path = resolve(template, options);
      resolved.set(key, path);
    }
    return path;
  };
  return engine;
}

export interface MeetingView {
  title: string;
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
  venueName: string;
  venueAddress: string;
  onlineUrl: string | null;
}

export interface MailData {
  name: string;
  meeting: MeetingView;
  manageUrl: string;
  /** Waitlist position (waitlisted). */
  position?: number | null;
  /** Where the meeting was before (rescheduled). */
  previous?: { startsAt: Date; endsAt: Date } | null;
  /** Why the meeting was called off (meeting cancelled). */
  reason?: string | null;
  /** What changed that a calendar shows (meeting changed). */
  changes?: readonly CalendarChange[] | null;
  /** ISO duration of the reminder (reminder). */
  reminderOffset?: string | null;
  unsubscribeUrl?: string | null;
  /** Whether a calendar file is attached, so the text can say so. */
  hasCalendar?: boolean;
  /** The single-use link that confirms the address (address confirmation). */
  confirmUrl?: string | null;
  /** The single-use link to the feedback survey (feedback survey). */
  surveyUrl?: string | null;
  /** The single-use link that accepts (or declines) the seat a waitlist offer holds (waitlist offer). */
  acceptUrl?: string | null;
  /** When the mail's single-use link stops working. */
  linkExpiresAt?: Date | null;
  /** The `cid:` of the door QR code shown in the HTML (see door-qr.ts), or null without one. */
  doorQrCid?: string | null;
  /** The office's own text (attendee message): plain text, a blank line between paragraphs. */
  message?: { subject: string; body: string } | null;
  /** The office's texts of the meeting (see mail-texts/): above and below the meeting's details. */
  office?: { introduction: string; practical: string } | null;
  /** What moved in the deals since the previous meeting (the last reminder; see deal-news/). */
  dealNews?: readonly DealNews[] | null;
  /**
   * The session place the attendee got (session place): `waited` when a place came free in the session's
   * waitlist, not when the choice waited for the meeting seat.
   */
  session?: { title: string; startsAt: Date; endsAt: Date; waited: boolean } | null;
}

/** Meeting fields whose change sends seated attendees an updated invitation. */
export const calendarChanges = ['title', 'venue', 'onlineUrl'] as const;
export type CalendarChange = (typeof calendarChanges)[number];

const changeLabels: Record<Language, Record<CalendarChange, string>> = {
  en: { title: 'title', venue: 'venue', onlineUrl: 'online link' },
  nl: { title: 'titel', venue: 'locatie', onlineUrl: 'onlinelink' },
};

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** What the templates see: the data plus date, time and place already written out in the mail's language. */
function templateContext(language: Language, data: MailData) {
  let subject = '';
  const when = describeTime(data.meeting.startsAt, data.meeting.endsAt, data.meeting.timeZone, language);
  const previous = data.previous
    ? describeTime(data.previous.startsAt, data.previous.endsAt, data.meeting.timeZone, language)
    : null;
  return {
    ...data,
    language,
    when,
    previous,
    place: [data.meeting.venueName, data.meeting.venueAddress].join(', '),
    /** The session's date and time in the meeting's zone (session place). */
    sessionWhen: data.session
      ? describeTime(data.session.startsAt, data.session.endsAt, data.meeting.timeZone, language)
      : null,
    /** When the mail's link stops working, in the meeting's zone: "dinsdag 2 februari 2027 10:15". */
    expires: data.linkExpiresAt ? describeInstant(data.linkExpiresAt, data.meeting.timeZone, language) : '',
    changes: (data.changes ?? []).map((change) => changeLabels[language][change]),
    /** The office's text as paragraphs of lines, so the HTML keeps its shape with every value escaped. */
    paragraphs: data.message ? paragraphsOf(data.message.body) : [],
    ...officeTexts(language, data.office),
    dealNews: dealNewsView(language, data.dealNews ?? []),
    /** How far ahead the meeting is, for reminders: "tomorrow", "in 2 hours", "over 30 minuten". */
    soon: data.reminderOffset ? reminderLead(durationMs(data.reminderOffset), language) : '',
    setSubject(value: string) {
      subject = value;
    },
    get subject() {
      return subject;
    },
  };
}

const practicalHeadings: Record<Language, string> = {
  nl: 'Praktische informatie',
  en: 'Practical information',
};

/** The office's texts as paragraphs of lines, for the includes the details template pulls in. */
function officeTexts(language: Language, office: MailData['office']) {
  return {
    officeIntroduction: office ? paragraphsOf(office.introduction) : [],
    officePractical: office ? paragraphsOf(office.practical) : [],
    practicalHeading: practicalHeadings[language],
  };
}

/** Plain text as paragraphs (split at blank lines) of lines. */
export function paragraphsOf(text: string): string[][] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.split('\n').map((line) => line.trimEnd()))
    .filter((lines) => lines.some((line) => line.trim() !== ''));
}

export function renderMail(kind: EmailKind, language: Language, data: MailData): RenderedMail {
  const context = templateContext(language, data);
  const text = textEngine.render(`./${language}/${kind}.text.eta`, context);
  const html = htmlEngine.render(`./${language}/${kind}.html.eta`, context);
  if (!context.subject) throw new Error(`template ${language}/${kind}.text sets no subject`);
  return { subject: context.subject, text: `${text.trim()}\n`, html };
}

const locales: Record<Language, string> = { nl: 'nl-NL', en: 'en-GB' };

// Building an Intl.DateTimeFormat costs far more than formatting with one; a handful of zones and two
// languages ever occur, so they are kept.
const formatters = new Map<string, { date: Intl.DateTimeFormat; time: Intl.DateTimeFormat }>();

function formattersFor(locale: string, timeZone: string) {
  const key = `${locale} ${timeZone}`;
  let found = formatters.get(key);
  if (!found) {
    found = {
      date: new Intl.DateTimeFormat(locale, {
        timeZone,
        weekday: 'long',
        day: 'numeric',
        month: 'long',
        year: 'numeric',
      }),
      time: new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hour12: false }),
    };
    formatters.set(key, found);
  }
  return found;
}

// A meeting's reminders and confirmations all describe the same times: formatting is the costly part of a
// mail, so the last few descriptions are kept.
const descriptions = new Map<string, ReturnType<typeof formatTime>>();

/** Date and time in the meeting's zone, e.g. "donderdag 23 november 2023", "13:00 – 17:30". */
export function describeTime(startsAt: Date, endsAt: Date, timeZone: string, language: Language) {
  const key = `${startsAt.getTime()} ${endsAt.getTime()} ${timeZone} ${language}`;
  let found = descriptions.get(key);
  if (!found) {
    if (descriptions.size >= 256) descriptions.clear();
    found = formatTime(startsAt, endsAt, timeZone, language);
    descriptions.set(key, found);
  }
  return { ...found };
}

function formatTime(startsAt: Date, endsAt: Date, timeZone: string, language: Language) {
  const { date, time } = formattersFor(locales[language], timeZone);
  const sameDay = date.format(startsAt) === date.format(endsAt);
  return {
    date: date.format(startsAt),
    time: sameDay
      ? `${time.format(startsAt)} – ${time.format(endsAt)}`
      : `${time.format(startsAt)} – ${date.format(endsAt)} ${time.format(endsAt)}`,
    timeZone,
  };
}

export function describeInstant(at: Date, timeZone: string, language: Language): string {
  const { date, time } = formattersFor(locales[language], timeZone);
  return `${date.format(at)} ${time.format(at)}`;
}

const leadWords = {
  en: {
    tomorrow: 'tomorrow',
    in: 'in',
    and: 'and',
    day: ['day', 'days'],
    hour: ['hour', 'hours'],
    minute: ['minute', 'minutes'],
  },
  nl: {
    tomorrow: 'morgen',
    in: 'over',
    and: 'en',
    day: ['dag', 'dagen'],
    hour: ['uur', 'uur'],
    minute: ['minuut', 'minuten'],
  },
} as const satisfies Record<Language, unknown>;

/**
 * How far ahead a meeting is when a reminder with this offset goes out, for every offset a meeting may have
 * (a minute up to 90 days, in weeks, days, hours and minutes): exactly that long, naming no unit that is
 * zero; "tomorrow" only for exactly one day.
 */
export function reminderLead(offsetMs: number, language: Language): string {
  const words = leadWords[language];
  const minutes = Math.round(offsetMs / 60_000);
  if (minutes === 24 * 60) return words.tomorrow;
  const days = Math.floor(minutes / (24 * 60));
  const rest = minutes % (24 * 60);
  const parts: [number, readonly [string, string]][] = [
    [days, words.day],
    [Math.floor(rest / 60), words.hour],
    [rest % 60, words.minute],
  ];
  const named = parts.filter(([n]) => n > 0).map(([n, [one, many]]) => `${n} ${n === 1 ? one : many}`);
  const last = named.pop() ?? `0 ${words.minute[1]}`;
  return `${words.in} ${named.length > 0 ? `${named.join(', ')} ${words.and} ${last}` : last}`;
}
