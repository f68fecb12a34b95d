import type { FieldErrors } from '../meetings/meeting.views.ts';
import { html, type SafeHtml } from '../web/html.ts';
import type { Language } from '../web/texts.ts';
import { type MessageFormValues, type MessageLanguage, messageStatuses } from './message.rules.ts';

export interface SentMessage {
  id: string;
  statuses: string[];
  dealIds: string[] | null;
  roles: string[] | null;
  texts: Partial<Record<MessageLanguage, { subject: string; body: string }>>;
  sendAt: string;
  createdBy: string;
  createdAt: string;
  sentAt: string | null;
  recipients: number | null;
}

export interface MessagePreview {
  language: MessageLanguage;
  subject: string;
  text: string;
}

const words = {
  nl: {
    title: 'Berichten aan deelnemers',
    compose: 'Nieuw bericht',
    statuses: 'Aan wie (status)',
    statusNames: { confirmed: 'bevestigd', waitlisted: 'wachtlijst', checked_in: 'ingecheckt' } as Record<
      string,
      string
    >,
    deals: 'Alleen deelnemers van deze deals (niets aangevinkt: alle)',
    roles: 'Alleen deelnemers met deze rol (niets aangevinkt: alle)',
    roleNames: {
      projectleider: 'projectleider',
      projectsecretaris: 'projectsecretaris',
      dealmaker: 'dealmaker',
      programmamanager: 'programmamanager',
      communicatieadviseur: 'communicatieadviseur',
      partner: 'partner',
      other: 'anders',
    } as Record<string, string>,
    texts: 'Tekst (Nederlands, Engels of beide: ieder krijgt de eigen taal, anders de geschreven)',
    subject: { nl: 'Onderwerp (Nederlands)', en: 'Onderwerp (Engels)' },
    body: { nl: 'Bericht (Nederlands)', en: 'Bericht (Engels)' },
    bodyHint: 'Platte tekst; een lege regel begint een nieuwe alinea.',
    sendAt: 'Versturen op (leeg: meteen)',
    preview: 'Voorbeeld bekijken',
    send: 'Versturen',
    previewTitle: 'Voorbeeld',
    previewOf: {
      nl: 'Zo krijgt een Nederlandstalige deelnemer het',
      en: 'Zo krijgt een Engelstalige deelnemer het',
    },
    writeSomething: 'Schrijf het bericht in het Nederlands, het Engels of beide.',
    notYet: 'De meldingendienst kent deze bijeenkomst nog niet; probeer het zo opnieuw.',
    fixErrors: 'Controleer de gemarkeerde velden; er is niets verstuurd.',
    sent: 'Bericht verstuurd of ingepland.',
    list: 'Verstuurde en geplande berichten',
    none: 'Nog geen berichten.',
    when: 'Wanneer',
    subjectCol: 'Onderwerp',
    to: 'Aan',
    by: 'Door',
    count: 'Ontvangers',
    scheduled: 'gepland',
    filtered: 'met filter',
    back: 'Terug naar de bijeenkomst',
  },
  en: {
    title: 'Messages to attendees',
    compose: 'New message',
    statuses: 'To whom (status)',
    statusNames: { confirmed: 'confirmed', waitlisted: 'waitlist', checked_in: 'checked in' } as Record<
      string,
      string
    >,
    deals: 'Only attendees of these deals (none ticked: all)',
    roles: 'Only attendees with this role (none ticked: all)',
    roleNames: {
      projectleider: 'project leader',
      projectsecretaris: 'project secretary',
      dealmaker: 'deal maker',
      programmamanager: 'programme manager',
      communicatieadviseur: 'communications adviser',
      partner: 'partner',
      other: 'other',
    } as Record<string, string>,
    texts: 'Text (Dutch, English or both: each gets their own language, otherwise the one written)',
    subject: { nl: 'Subject (Dutch)', en: 'Subject (English)' },
    body: { nl: 'Message (Dutch)', en: 'Message (English)' },
    bodyHint: 'Plain text; a blank line starts a new paragraph.',
    sendAt: 'Send at (empty: at once)',
    preview: 'Preview',
    send: 'Send',
    previewTitle: 'Preview',
    previewOf: { nl: 'As a Dutch-speaking attendee gets it', en: 'As an English-speaking attendee gets it' },
    writeSomething: 'Write the message in Dutch, English or both.',
    notYet: 'The notification service does not know this meeting yet; try again shortly.',
    fixErrors: 'Check the marked fields; nothing was sent.',
    sent: 'Message sent or scheduled.',
    list: 'Sent and scheduled messages',
    none: 'No messages yet.',
    when: 'When',
    subjectCol: 'Subject',
    to: 'To',
    by: 'By',
    count: 'Recipients',
    scheduled: 'scheduled',
    filtered: 'filtered',
    back: 'Back to the meeting',
  },
};

export const messageTexts = (lang: Language) => words[lang];

const invalid = (id: string, errors: FieldErrors) =>
  errors[id] ? html` aria-invalid="true" aria-describedby="${id}-error"` : '';
const errorOf = (id: string, errors: FieldErrors) =>
  errors[id] ? html`<p class="error" id="${id}-error">${errors[id]}</p>` : '';
const shown = (iso: string, timeZone: string) =>
  new Date(iso).toLocaleString('nl-NL', { timeZone, dateStyle: 'medium', timeStyle: 'short' });

function checkboxes(
  legend: string,
  field: string,
  options: readonly { value: string; label: string }[],
  prefix: string,
  ticked: readonly string[],
  e: FieldErrors,
): SafeHtml {
  return html`<fieldset class="choices-set${e[field] ? ' invalid' : ''}"${e[field] ? html` aria-describedby="${field}-error"` : ''}>
<legend>${legend}</legend>
<div class="choices">${options.map(
    (o) =>
      html`<div class="check"><input type="checkbox" id="${prefix}${o.value}" name="${prefix}${o.value}" value="1"${ticked.includes(o.value) ? html` checked` : ''}><label for="${prefix}${o.value}">${o.label}</label></div>`,
  )}</div>
${errorOf(field, e)}
</fieldset>`;
}

/** The compose form: plain fields that work without script; a problem a service names is beside its field. */
export function messageForm(
  lang: Language,
  options: {
    action: string;
    csrf: string;
    values: MessageFormValues;
    errors: FieldErrors;
    deals: readonly { id: string; name: string }[];
    roles: readonly string[];
  },
): SafeHtml {
  const w = words[lang];
  const { values: v, errors: e } = options;
  const textFields = (l: MessageLanguage) => {
    const L = l === 'nl' ? 'Nl' : 'En';
    return html`<div class="field"><label for="subject${L}">${w.subject[l]}</label>
<input id="subject${L}" name="subject${L}" maxlength="200" value="${v.texts[l].subject}"${invalid(`subject${L}`, e)}>
${errorOf(`subject${L}`, e)}</div>
<div class="field"><label for="body${L}">${w.body[l]}</label>
<textarea id="body${L}" name="body${L}" rows="6"${invalid(`body${L}`, e)}>${v.texts[l].body}</textarea>
${errorOf(`body${L}`, e)}</div>`;
  };
  return html`${Object.keys(e).length ? html`<p role="alert" class="error">${w.fixErrors}</p>` : ''}
<form method="post" action="${options.action}" class="stack message-form">
<input type="hidden" name="_csrf" value="${options.csrf}">
<input type="hidden" name="id" value="${v.id}">
${checkboxes(
  w.statuses,
  'statuses',
  messageStatuses.map((s) => ({ value: s, label: w.statusNames[s]! })),
  'status_',
  v.statuses,
  e,
)}
${
  options.deals.length
    ? checkboxes(
        w.deals,
        'deals',
        options.deals.map((d) => ({ value: d.id, label: d.name })),
        'deal_',
        v.dealIds,
        e,
      )
    : ''
}
${checkboxes(
  w.roles,
  'roles',
  options.roles.map((r) => ({ value: r, label: w.roleNames[r] ?? r })),
  'role_',
  v.roles,
  e,
)}
<fieldset class="${e.texts ? 'invalid' : ''}" aria-describedby="body-hint${e.texts ? ' texts-error' : ''}">
<legend>${w.texts}</legend>
<p id="body-hint" class="hint">${w.bodyHint}</p>
${errorOf('texts', e)}
${textFields('nl')}
${textFields('en')}
</fieldset>
<div class="field"><label for="sendAt">${w.sendAt}</label>
<input id="sendAt" name="sendAt" type="datetime-local" value="${v.sendAt}"${invalid('sendAt', e)}>
${errorOf('sendAt', e)}</div>
<div class="buttons">
<button type="submit" name="action" value="preview" class="secondary">${w.preview}</button>
<button type="submit" name="action" value="send">${w.send}</button>
</div>
</form>`;
}

/** The mail as notification renders it: its subject and its plain-text part, per language written. */
export function messagePreviews(lang: Language, previews: readonly MessagePreview[]): SafeHtml {
  const w = words[lang];
  return html`<section aria-labelledby="preview-title" class="previews">
<h2 id="preview-title">${w.previewTitle}</h2>
${previews.map(
  (p) => html`<article class="preview" aria-labelledby="preview-${p.language}">
<h3 id="preview-${p.language}">${w.previewOf[p.language]}</h3>
<p class="preview-subject"><strong>${p.subject}</strong></p>
<pre class="preview-text" tabindex="0">${p.text}</pre>
</article>`,
)}
</section>`;
}

export function messageList(lang: Language, messages: readonly SentMessage[], timeZone: string): SafeHtml {
  const w = words[lang];
  if (messages.length === 0) return html`<p>${w.none}</p>`;
  return html`<div class="table-scroll" tabindex="0" role="region" aria-labelledby="messages-title"><table id="message-table">
<thead><tr><th scope="col">${w.when}</th><th scope="col">${w.subjectCol}</th><th scope="col">${w.to}</th><th scope="col">${w.by}</th><th scope="col">${w.count}</th></tr></thead>
<tbody>${messages.map((m) => {
    const subject = (m.texts[lang] ?? m.texts.nl ?? m.texts.en)?.subject ?? '';
    const filtered = (m.dealIds?.length ?? 0) > 0 || (m.roles?.length ?? 0) > 0;
    return html`<tr>
<td>${shown(m.sentAt ?? m.sendAt, timeZone)}${m.sentAt ? '' : html` (${w.scheduled})`}</td>
<td>${subject}</td>
<td>${m.statuses.map((s) => w.statusNames[s] ?? s).join(', ')}${filtered ? html` (${w.filtered})` : ''}</td>
<td>${m.createdBy.replace(/^staff:/, '')}</td>
<td>${m.recipients ?? w.scheduled}</td>
</tr>`;
  })}</tbody></table></div>`;
}

/** Served after the console's own stylesheet (see static.routes.ts). */
export const messageCss = `
.buttons {
  display: flex;
  flex-wrap: wrap;
  gap: 0.5rem;
}
.preview {
  border: 1px solid var(--line);
  border-radius: 4px;
  padding: 0.5rem;
  margin-bottom: 1rem;
}
.preview-text {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  font-family: inherit;
  margin: 0;
}
`;
