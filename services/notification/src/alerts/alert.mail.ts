import type { Language } from '@citydeals/contracts';
import type { NewEmail } from '../email/email.repository.ts';
import { messageIdFor } from '../email/email.rules.ts';
import type { RaisedAlert } from './alert.service.ts';

// The office's mail about an alert: what happened, the figures, and what to do (the same advice as the
// Prometheus rules' descriptions). Dutch first: the office works in Dutch.

type Texts = Record<RaisedAlert['kind'], { title: string; advice: string }>;
type Units = Record<'hour' | 'minute', readonly [string, string]>;

/** The window as the mail says it: "uur", "2 uur", "30 minuten". */
function windowText(ms: number, units: Units): string {
  const [count, [one, many]] =
    ms % 3600_000 === 0 ? [ms / 3600_000, units.hour] : [Math.max(1, Math.round(ms / 60_000)), units.minute];
  return count === 1 ? one : `${count} ${many}`;
}

const texts: Record<
  Language,
  Texts & { intro: string; occurrences: string; footer: (window: string) => string; units: Units }
> = {
  nl: {
    intro: 'De City Deals-diensten melden een storing.',
    occurrences: 'Keren voorgekomen sinds de vorige melding hierover',
    footer: (window) => `Over dezelfde oorzaak volgt hooguit één melding per ${window}.`,
    units: { hour: ['uur', 'uur'], minute: ['minuut', 'minuten'] },
    endpointDisabled: {
      title: 'Webhook-endpoint uitgeschakeld',
      advice:
        'Het ontvangende systeem krijgt geen wijzigingen meer. Schakel het endpoint weer in als het hersteld is en speel de berichten opnieuw af.',
    },
    retriesExhausted: {
      title: 'Webhook-bericht opgegeven na de laatste poging',
      advice:
        'Het ontvangende systeem geeft fouten of is onbereikbaar; blijft dat zo, dan wordt het endpoint uitgeschakeld.',
    },
    mailsFailed: {
      title: 'Veel mails mislukken',
      advice: 'De mailserver weigert mails definitief (5xx); kijk in het mail-log.',
    },
    mailsSuppressed: {
      title: 'Veel adressen geblokkeerd na een harde bounce',
      advice:
        'Veel harde bounces tegelijk: een tikfout in een import, of een blokkade aan de ontvangende kant.',
    },
    deadLettered: {
      title: 'Gebeurtenis niet verwerkt (dead letter)',
      advice:
        'Een gebeurtenis kon niet worden verwerkt; los de oorzaak op en doe dan POST /admin/dead-letters/{id}/retry bij die dienst.',
    },
    consumerFellBehind: {
      title: 'Verwerking loopt achter',
      advice:
        'Een consumer bevestigt minder gebeurtenissen dan er binnenkomen; voeg replica’s toe of zoek een trage handler.',
    },
  },
  en: {
    intro: 'The City Deals services report trouble.',
    occurrences: 'Occurrences since the previous alert about this',
    footer: (window) => `At most one alert per ${window} follows about the same cause.`,
    units: { hour: ['hour', 'hours'], minute: ['minute', 'minutes'] },
    endpointDisabled: {
      title: 'Webhook endpoint disabled',
      advice: 'A receiving system gets no more changes; after fixing it, enable the endpoint and replay.',
    },
    retriesExhausted: {
      title: 'Webhook message given up after its last retry',
      advice: 'The receiver answers errors or is unreachable; if it stays so, the endpoint is disabled.',
    },
    mailsFailed: {
      title: 'Many mails fail',
      advice: 'The mail server refuses mails for good (5xx); see the mail log.',
    },
    mailsSuppressed: {
      title: 'Many addresses suppressed after a hard bounce',
      advice: 'Many hard bounces at once: a typo in an import, or a block by the receiving side.',
    },
    deadLettered: {
      title: 'Event not handled (dead letter)',
      advice:
        'An event could not be handled; fix the cause, then POST /admin/dead-letters/{id}/retry on that service.',
    },
    consumerFellBehind: {
      title: 'A consumer is falling behind',
      advice:
        'A durable consumer acknowledges fewer events than arrive; add replicas or look for a slow handler.',
    },
  },
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function composeAlertMail(
  alert: RaisedAlert,
  to: { address: string; language: Language; windowMs: number },
  mail: { id: string; messageIdDomain: string; now: Date },
): NewEmail {
  const t = texts[to.language];
  const { title, advice } = t[alert.kind];
  const { cause, occurrences, raisedAt, ...facts } = alert.event.data as Record<string, unknown>;
  const rows: [string, string][] = [
    ['cause', String(cause)],
    ...Object.entries(facts).map(([key, value]): [string, string] => [key, String(value)]),
    [t.occurrences, String(occurrences)],
    ['raisedAt', String(raisedAt)],
    ['alert', alert.event.id],
  ];
  const footer = t.footer(windowText(to.windowMs, t.units));
  const text = [
    t.intro,
    '',
    title,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    '',
    advice,
    '',
    footer,
    '',
  ].join('\n');
  const html = [
    `<!doctype html><html lang="${to.language}"><meta charset="utf-8"><body>`,
    `<p>${escapeHtml(t.intro)}</p><h1>${escapeHtml(title)}</h1>`,
    '<table>',
    ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    '</table>',
    `<p>${escapeHtml(advice)}</p><p>${escapeHtml(footer)}</p></body></html>`,
  ].join('\n');
  return {
    id: mail.id,
    kind: 'operational_alert',
    meeting_id: null,
    registration_id: null,
    reminder_offset: null,
    recipient: to.address,
    language: to.language,
    subject: `[City Deals] ${title}: ${String(cause)}`,
    text_body: text,
    html_body: html,
    ics: null,
    ics_method: null,
    unsubscribe_url: null,
    message_id: messageIdFor(mail.id, mail.messageIdDomain),
    dedupe_key: `alert:${alert.event.id}`,
    status: 'queued',
    expires_at: null,
    created_at: mail.now,
  };
}
