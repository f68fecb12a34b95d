import { type AttendeeRole, attendeeRoles, type Language } from '@citydeals/contracts';
import { roleLabels, type Texts, texts } from './page.texts.ts';

/** HTML-escapes text and attribute values. */
export function h(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Served as /static/pages.css: pages carry no inline style, so a strict Content-Security-Policy fits. */
export const PAGES_CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;color:#1a1a1a;background:#fff;margin:0}
main{max-width:42rem;margin:0 auto;padding:1.5rem}
a{color:#0a4f8a}
a:focus,input:focus,select:focus,textarea:focus,button:focus{outline:3px solid #b35c00;outline-offset:2px}
label{display:block;font-weight:600;margin-top:1rem}
input[type=text],input[type=email],select,textarea{width:100%;box-sizing:border-box;padding:.5rem;border:2px solid #555;border-radius:4px;font:inherit}
fieldset{border:2px solid #555;border-radius:4px;margin-top:1rem}
label.check{display:flex;gap:.5rem;align-items:flex-start;font-weight:400;margin:.75rem 0 0}
label.check input{margin:.3rem 0 0;flex:none;width:1.1rem;height:1.1rem}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;font-weight:600;color:#fff;background:#0a4f8a;border:0;border-radius:4px;cursor:pointer}
.error{color:#a4000f;font-weight:600;margin:.25rem 0 0}
.summary{border:3px solid #a4000f;padding:1rem;margin:1rem 0}
.notice{border-left:6px solid #0a4f8a;background:#eef4fa;padding:1rem;margin:1rem 0}
.req{font-weight:400;font-size:.9em}
.lang{text-align:right}
code{word-break:break-all}
altcha-widget{display:block;margin-top:1.5rem;max-width:100%}
.links{margin-top:2rem}`;

/** The hidden field every form carries (see abuse/csrf.rules.ts). */
export interface FormGuard {
  csrf: string;
}

export function guardField(guard: FormGuard): string {
  return `<input type="hidden" name="csrf" value="${h(guard.csrf)}">`;
}

export function layout(input: {
  lang: Language;
  title: string;
  body: string;
  switchHref?: string | undefined;
  /** Adds the proof-of-work widget's script and style. */
  proofOfWork?: boolean;
}): string {
  const t = texts[input.lang];
  const pow = input.proofOfWork
    ? '\n<link rel="stylesheet" href="/static/altcha/altcha.css">\n<script type="module" src="/static/pages.js"></script>'
    : '';
  const switcher = input.switchHref
    ? `<p class="lang"><a href="${h(input.switchHref)}" lang="${input.lang === 'nl' ? 'en' : 'nl'}">${h(t.switchLabel)}</a></p>`
    : '';
  return `<!doctype html>
<html lang="${input.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(input.title)}</title>
<link rel="stylesheet" href="/static/pages.css">${pow}
</head>
<body>
<main>
${switcher}
${input.body}
</main>
</body>
</html>`;
}

export function formatWhen(startsAt: Date, endsAt: Date, timeZone: string, lang: Language): string {
  const locale = lang === 'nl' ? 'nl-NL' : 'en-GB';
  const day = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'full' }).format(startsAt);
  const time = new Intl.DateTimeFormat(locale, { timeZone, timeStyle: 'short' });
  return `${day}, ${time.format(startsAt)}–${time.format(endsAt)}`;
}

export interface MeetingForPage {
  slug: string;
  title: string;
  description: string | null;
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
  venueName: string;
  venueAddress: string;
  online: boolean;
  agenda: { time: string; title: string }[];
  seatsAvailable: number;
  /** Why registration is not possible, or null when it is. */
  closedReason: string | null;
}

export type FormValues = Partial<Record<string, string>>;

function field(
  t: Texts,
  input: {
    name: string;
    label: string;
    type?: string;
    required?: boolean;
    value?: string;
    errors: Record<string, string>;
    autocomplete?: string;
  },
): string {
  const error = input.errors[input.name];
  const described = error ? ` aria-invalid="true" aria-describedby="${input.name}-error"` : '';
  const req = input.required ? ` <span class="req">(${h(t.required)})</span>` : '';
  const auto = input.autocomplete ? ` autocomplete="${input.autocomplete}"` : '';
  const control =
    input.type === 'textarea'
      ? `<textarea id="${input.name}" name="${input.name}" rows="2" maxlength="500"${described}>${h(input.value)}</textarea>`
      : `<input type="${input.type ?? 'text'}" id="${input.name}" name="${input.name}" value="${h(input.value)}"${input.required ? ' required aria-required="true"' : ''}${auto}${described}>`;
  return `<label for="${input.name}">${h(input.label)}${req}</label>
${error ? `<p class="error" id="${input.name}-error">${h(error)}</p>` : ''}
${control}`;
}

/**
 * A checkbox inside its label: clicking the text ticks the box, and no style can lay the two out apart
 * (the label styles of text fields put a label on its own line above its control).
 */
function checkbox(input: {
  name: string;
  label: string;
  checked?: boolean;
  required?: boolean;
  error?: boolean;
}) {
  const attrs = `${input.checked ? ' checked' : ''}${input.required ? ' required aria-required="true"' : ''}${
    input.error ? ` aria-invalid="true" aria-describedby="${input.name}-error"` : ''
  }`;
  return `<label class="check" for="${input.name}"><input type="checkbox" id="${input.name}" name="${input.name}" value="ja"${attrs}> <span>${h(input.label)}</span></label>`;
}

/**
 * The list of problems above a form, each linking to its field; a problem of the whole form (an expired
 * CSRF field) links to `firstField`.
 */
function errorSummary(t: Texts, errors: Record<string, string>, firstField: string): string {
  if (Object.keys(errors).length === 0) return '';
  const items = Object.entries(errors)
    .map(
      ([name, message]) => `<li><a href="#${h(name === 'form' ? firstField : name)}">${h(message)}</a></li>`,
    )
    .join('');
  return `<div class="summary" role="alert" tabindex="-1" id="error-summary"><p>${h(t.errorSummary)}</p><ul>${items}</ul></div>`;
}

export function meetingPage(input: {
  lang: Language;
  meeting: MeetingForPage;
  deals: { id: string; name: string }[];
  values: FormValues;
  errors: Record<string, string>;
  action: string;
  switchHref: string;
  guard: FormGuard;
  /** URL of a proof-of-work challenge the form must solve, or null when the form needs none. */
  powChallengeUrl: string | null;
  /** The meeting's own questions, rendered (questions/questions.view.ts). */
  questions?: string;
  /** The meeting's sessions to choose from (sessions.view.ts). */
  sessions?: string;
}): string {
  const { lang, meeting, values, errors } = input;
  const t = texts[lang];
  const agenda = meeting.agenda.length
    ? `<h2>${h(t.programme)}</h2><ul>${meeting.agenda.map((a) => `<li>${h(a.time)} – ${h(a.title)}</li>`).join('')}</ul>`
    : '';
  const summary = errorSummary(t, errors, 'name');
  const roleError = errors.role;
  const dealError = errors.dealId;
  const form = meeting.closedReason
    ? `<p class="notice">${h(meeting.closedReason)}</p>`
    : `<h2>${h(t.formTitle)}</h2>
${meeting.seatsAvailable > 0 ? `<p>${h(t.seatsLeft(meeting.seatsAvailable))}</p>` : `<p class="notice">${h(t.full)}</p>`}
${summary}
<form method="post" action="${h(input.action)}" novalidate>
<input type="hidden" name="language" value="${lang}">
${guardField(input.guard)}
${field(t, { name: 'name', label: t.name, required: true, value: values.name, errors, autocomplete: 'name' })}
${field(t, { name: 'email', label: t.email, type: 'email', required: true, value: values.email, errors, autocomplete: 'email' })}
${field(t, { name: 'organisation', label: t.organisation, required: true, value: values.organisation, errors, autocomplete: 'organization' })}
<label for="role">${h(t.role)} <span class="req">(${h(t.required)})</span></label>
${roleError ? `<p class="error" id="role-error">${h(roleError)}</p>` : ''}
<select id="role" name="role" required aria-required="true"${roleError ? ' aria-invalid="true" aria-describedby="role-error"' : ''}>
<option value="">${h(t.chooseRole)}</option>
${attendeeRoles.map((r) => `<option value="${r}"${values.role === r ? ' selected' : ''}>${h(roleLabels[lang][r as AttendeeRole])}</option>`).join('\n')}
</select>
<label for="dealId">${h(t.deal)}</label>
${dealError ? `<p class="error" id="dealId-error">${h(dealError)}</p>` : ''}
<select id="dealId" name="dealId"${dealError ? ' aria-invalid="true" aria-describedby="dealId-error"' : ''}>
<option value="">${h(t.noDeal)}</option>
${input.deals.map((d) => `<option value="${h(d.id)}"${values.dealId === d.id ? ' selected' : ''}>${h(d.name)}</option>`).join('\n')}
</select>
${field(t, { name: 'dietaryNeeds', label: t.dietaryNeeds, type: 'textarea', value: values.dietaryNeeds, errors })}
${field(t, { name: 'accessibilityNeeds', label: t.accessibilityNeeds, type: 'textarea', value: values.accessibilityNeeds, errors })}
${input.questions ?? ''}
${input.sessions ?? ''}
<fieldset>
<legend>${h(t.consents)}</legend>
${checkbox({ name: 'consentPhoto', label: t.consentPhoto, checked: Boolean(values.consentPhoto) })}
${checkbox({ name: 'consentAttendeeList', label: t.consentList, checked: Boolean(values.consentAttendeeList) })}
</fieldset>
${
  input.powChallengeUrl
    ? `${errors.altcha ? `<p class="error" id="altcha-error">${h(errors.altcha)}</p>` : ''}
<altcha-widget id="altcha" challenge="${h(input.powChallengeUrl)}" name="altcha" auto="onfocus" language="${lang}" aria-label="${h(t.powLabel)}"></altcha-widget>
<noscript><p class="notice">${h(t.noScript)}</p></noscript>`
    : ''
}
<button type="submit">${h(t.submit)}</button>
</form>
<p class="links"><a href="${RESEND_PATH}?lang=${lang}">${h(t.resendLink)}</a></p>`;
  return layout({
    lang,
    title: meeting.title,
    switchHref: input.switchHref,
    proofOfWork: Boolean(input.powChallengeUrl) && !meeting.closedReason,
    body: `<h1>${h(meeting.title)}</h1>
<dl>
<dt>${h(t.when)}</dt><dd>${h(formatWhen(meeting.startsAt, meeting.endsAt, meeting.timeZone, lang))}</dd>
<dt>${h(t.where)}</dt><dd>${h(meeting.venueName)}</dd>
<dt>${h(t.address)}</dt><dd>${h(meeting.venueAddress)}</dd>
</dl>
${meeting.online ? `<p>${h(t.online)}</p>` : ''}
${meeting.description ? `<p>${h(meeting.description)}</p>` : ''}
${agenda}
${form}`,
  });
}

export function confirmationPage(input: {
  lang: Language;
  meetingTitle: string;
  status: 'confirmed' | 'waitlisted' | string | null;
  position: number | null;
  manageUrl: string | null;
}): string {
  const t = texts[input.lang];
  const title =
    input.manageUrl === null
      ? t.existingTitle
      : input.status === 'waitlisted'
        ? t.waitlistedTitle
        : t.confirmedTitle;
  const text =
    input.manageUrl === null
      ? t.existingText
      : input.status === 'waitlisted'
        ? t.waitlistedText(input.position ?? 0)
        : t.confirmedText;
  const link = input.manageUrl
    ? `<p>${h(t.manageLinkIntro)}</p><p><a href="${h(input.manageUrl)}"><code>${h(input.manageUrl)}</code></a></p>`
    : `<p class="links"><a href="${RESEND_PATH}?lang=${input.lang}">${h(t.resendLink)}</a></p>`;
  return layout({
    lang: input.lang,
    title: `${title} – ${input.meetingTitle}`,
    body: `<h1>${h(title)}</h1><p class="notice" role="status">${h(text)}</p><p>${h(input.meetingTitle)}</p>${link}`,
  });
}

export function managePage(input: {
  lang: Language;
  token: string;
  registration: {
    status: string;
    position: number | null;
    name: string;
    email: string;
    dietaryNeeds: string | null;
    accessibilityNeeds: string | null;
    consentAttendeeList: boolean;
  };
  /** Who else is coming; null for someone the list is not open to. */
  attendees:
    | { name: string; organisation: string | null; deal: { name: string } | null; you: boolean }[]
    | null;
  meeting: {
    title: string;
    startsAt: Date;
    endsAt: Date;
    timeZone: string;
    venueName: string;
    venueAddress: string;
  };
  errors: Record<string, string>;
  message: string | null;
  basePath: string;
  guard: FormGuard;
  /** The person's answers to the meeting's questions, rendered (questions/questions.view.ts). */
  answers?: string;
  /** The attendee's sessions and their form (sessions.view.ts). */
  sessions?: string;
}): string {
  const { lang, registration: r, meeting: m, errors } = input;
  const t = texts[lang];
  const active = r.status === 'confirmed' || r.status === 'waitlisted';
  const status = `${t.statuses[r.status] ?? r.status}${r.position ? ` (${t.position(r.position)})` : ''}`;
  const confirmError = errors.confirm;
  const forms = active
    ? `${input.sessions ?? ''}
<h2>${h(t.dietaryNeeds)}</h2>
<form method="post" action="${h(input.basePath)}/wensen">
<input type="hidden" name="language" value="${lang}">
${guardField(input.guard)}
${field(t, { name: 'dietaryNeeds', label: t.dietaryNeeds, type: 'textarea', value: r.dietaryNeeds ?? '', errors })}
${field(t, { name: 'accessibilityNeeds', label: t.accessibilityNeeds, type: 'textarea', value: r.accessibilityNeeds ?? '', errors })}
${checkbox({ name: 'consentAttendeeList', label: t.consentList, checked: r.consentAttendeeList })}
<button type="submit">${h(t.save)}</button>
</form>
<h2>${h(t.cancelTitle)}</h2>
<form method="post" action="${h(input.basePath)}/afmelden">
<input type="hidden" name="language" value="${lang}">
${guardField(input.guard)}
${confirmError ? `<p class="error" id="confirm-error">${h(confirmError)}</p>` : ''}
${checkbox({ name: 'confirm', label: t.cancelConfirm, required: true, error: Boolean(confirmError) })}
<button type="submit">${h(t.cancelButton)}</button>
</form>`
    : '';
  return layout({
    lang,
    title: `${t.manageTitle} – ${m.title}`,
    switchHref: `${input.basePath}?lang=${lang === 'nl' ? 'en' : 'nl'}`,
    body: `<h1>${h(t.manageTitle)}</h1>
${input.message ? `<p class="notice" role="status">${h(input.message)}</p>` : ''}
<h2>${h(m.title)}</h2>
<dl>
<dt>${h(t.when)}</dt><dd>${h(formatWhen(m.startsAt, m.endsAt, m.timeZone, lang))}</dd>
<dt>${h(t.where)}</dt><dd>${h(m.venueName)}</dd>
<dt>${h(t.address)}</dt><dd>${h(m.venueAddress)}</dd>
<dt>${h(t.name)}</dt><dd>${h(r.name)}</dd>
<dt>${h(t.email)}</dt><dd>${h(r.email)}</dd>
<dt>${h(t.status)}</dt><dd>${h(status)}</dd>
</dl>
<p><a href="/registrations/manage/${h(input.token)}/calendar.ics">${h(t.calendar)}</a></p>
${input.attendees ? attendeeList(t, input.attendees) : ''}
${input.answers ?? ''}
${forms}`,
  });
}

function attendeeList(
  t: (typeof texts)[Language],
  attendees: NonNullable<Parameters<typeof managePage>[0]['attendees']>,
) {
  const items = attendees.map(
    (a) =>
      `<li>${h(a.name)}${a.you ? ` (${h(t.you)})` : ''}${a.organisation ? `, ${h(a.organisation)}` : ''}${
        a.deal ? ` – ${h(a.deal.name)}` : ''
      }</li>`,
  );
  return `<h2>${h(t.whoElseTitle)}</h2>
<p>${h(t.whoElseIntro)}</p>
${items.length > 0 ? `<ul class="attendees">\n${items.join('\n')}\n</ul>` : `<p>${h(t.whoElseEmpty)}</p>`}`;
}

export function messagePage(input: {
  lang: Language;
  title: string;
  text: string;
  /** Offers the "send me my link again" page (where a link was lost or did not work). */
  resend?: boolean;
}): string {
  const t = texts[input.lang];
  const resend = input.resend
    ? `<p class="links"><a href="${RESEND_PATH}?lang=${input.lang}">${h(t.resendLink)}</a></p>`
    : '';
  return layout({
    lang: input.lang,
    title: input.title,
    body: `<h1>${h(input.title)}</h1><p>${h(input.text)}</p>${resend}`,
  });
}

/** Behind the confirmation link: one button, because a GET must change nothing (mail scanners follow links). */
export function confirmAddressPage(input: { lang: Language; action: string; guard: FormGuard }): string {
  const t = texts[input.lang];
  return layout({
    lang: input.lang,
    title: t.confirmTitle,
    body: `<h1>${h(t.confirmTitle)}</h1><p>${h(t.confirmIntro)}</p>
<form method="post" action="${h(input.action)}">${guardField(input.guard)}<input type="hidden" name="language" value="${input.lang}">
<button type="submit">${h(t.confirmSubmit)}</button></form>`,
  });
}

/** The feedback survey behind the mailed link: a rating, two open questions, and the choice to give a name. */
export function surveyPage(input: {
  lang: Language;
  meetingTitle: string;
  action: string;
  guard: FormGuard;
  values: FormValues;
  errors: Record<string, string>;
}): string {
  const { lang, values, errors } = input;
  const t = texts[lang];
  const ratingError = errors.rating;
  const radios = [1, 2, 3, 4, 5]
    .map(
      (n) =>
        `<label class="check" for="rating-${n}"><input type="radio" id="rating-${n}" name="rating" value="${n}"${values.rating === String(n) ? ' checked' : ''}${ratingError ? ' aria-describedby="rating-error"' : ''}> <span>${h(t.surveyRatings[n - 1])}</span></label>`,
    )
    .join('\n');
  return layout({
    lang,
    title: `${t.surveyTitle} – ${input.meetingTitle}`,
    switchHref: `${input.action}?lang=${lang === 'nl' ? 'en' : 'nl'}`,
    body: `<h1>${h(t.surveyTitle)}</h1><p>${h(input.meetingTitle)}</p><p>${h(t.surveyIntro)}</p>
${errorSummary(t, errors, 'rating-1')}
<form method="post" action="${h(input.action)}" novalidate>${guardField(input.guard)}<input type="hidden" name="language" value="${lang}">
<fieldset id="rating"><legend>${h(t.surveyRating)} <span class="req">(${h(t.required)})</span></legend>
${ratingError ? `<p class="error" id="rating-error">${h(ratingError)}</p>` : ''}
${radios}</fieldset>
${field(t, { name: 'mostUseful', label: t.surveyMostUseful, type: 'textarea', value: values.mostUseful ?? '', errors })}
${field(t, { name: 'suggestions', label: t.surveySuggestions, type: 'textarea', value: values.suggestions ?? '', errors })}
${checkbox({ name: 'giveName', label: t.surveyGiveName, checked: values.giveName === 'ja' })}
<button type="submit">${h(t.surveySubmit)}</button></form>`,
  });
}

/** Where a person asks for their manage link again. */
export const RESEND_PATH = '/aanmelding/link-opnieuw';

export function resendPage(input: {
  lang: Language;
  guard: FormGuard;
  values: FormValues;
  errors: Record<string, string>;
}): string {
  const { lang, errors } = input;
  const t = texts[lang];
  const summary = errorSummary(t, errors, 'email');
  return layout({
    lang,
    title: t.resendTitle,
    switchHref: `${RESEND_PATH}?lang=${lang === 'nl' ? 'en' : 'nl'}`,
    body: `<h1>${h(t.resendTitle)}</h1>
<p>${h(t.resendIntro)}</p>
${summary}
<form method="post" action="${RESEND_PATH}" novalidate>
<input type="hidden" name="language" value="${lang}">
${guardField(input.guard)}
${field(t, { name: 'email', label: t.email, type: 'email', required: true, value: input.values.email, errors, autocomplete: 'email' })}
<button type="submit">${h(t.resendSubmit)}</button>
</form>`,
  });
}
