import type { Language } from '@citydeals/contracts';
import { offerTexts } from './offer-page.texts.ts';
import { type FormGuard, formatWhen, guardField, h, layout } from './page.views.ts';

/** "dinsdag 9 maart 2027 om 15:00" in the meeting's zone: the deadline as the mail says it. */
export function formatDeadline(at: Date, timeZone: string, lang: Language): string {
  const locale = lang === 'nl' ? 'nl-NL' : 'en-GB';
  return new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'full', timeStyle: 'short' }).format(at);
}

/**
 * Behind the offer link: what is held and until when, and one button each way. Opening it accepts nothing,
 * because mail scanners follow links; only the button's post does.
 */
export function offerPage(input: {
  lang: Language;
  action: string;
  guard: FormGuard;
  meeting: { title: string; startsAt: Date; endsAt: Date; timeZone: string };
  expiresAt: Date;
  error?: string;
}): string {
  const { lang, meeting } = input;
  const t = offerTexts[lang];
  const hidden = `${guardField(input.guard)}<input type="hidden" name="language" value="${lang}">`;
  const error = input.error ? `<div class="summary" role="alert"><p>${h(input.error)}</p></div>` : '';
  return layout({
    lang,
    title: `${t.title} – ${meeting.title}`,
    switchHref: `${input.action}?lang=${lang === 'nl' ? 'en' : 'nl'}`,
    body: `<h1>${h(t.title)}</h1>${error}
<p>${h(t.intro(meeting.title))}</p>
<p><strong>${h(t.when)}:</strong> ${h(formatWhen(meeting.startsAt, meeting.endsAt, meeting.timeZone, lang))}</p>
<p class="notice">${h(t.deadline(formatDeadline(input.expiresAt, meeting.timeZone, lang)))}</p>
<form method="post" action="${h(input.action)}">${hidden}
<button type="submit">${h(t.accept)}</button></form>
<p class="links">${h(t.declineIntro)}</p>
<form method="post" action="${h(`${input.action}/afslaan`)}">${hidden}
<button type="submit">${h(t.decline)}</button></form>`,
  });
}
