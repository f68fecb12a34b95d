import { shown } from '../meetings/meeting.views.ts';
import { html, type SafeHtml } from '../web/html.ts';
import type { MailTextTexts } from './mail-texts.texts.ts';

export const textLanguages = ['nl', 'en'] as const;
export type TextLanguage = (typeof textLanguages)[number];
export const textParts = ['introduction', 'practical'] as const;
export type TextField = `${TextLanguage}_${(typeof textParts)[number]}`;
export type TextValues = Record<TextField, string>;
export type FieldErrors = Partial<Record<TextField | 'kind' | 'language', string>>;

/** Notification's answer to GET /admin/meetings/{id}/mail-texts. */
export interface MailTextsAnswer {
  meetingId: string;
  meeting: { title: string; startsAt: string; timeZone: string; language: string; status: string };
  texts: {
    language: TextLanguage;
    introduction: string;
    practical: string;
    updatedAt: string;
    updatedBy: { id: string; name: string };
  }[];
  kinds: string[];
  limits: { introduction: number; practical: number };
}

/** Notification's answer to POST /admin/meetings/{id}/mail-preview. */
export interface MailPreview {
  kind: string;
  language: string;
  subject: string;
  html: string;
  text: string;
}

/** The form's values as saved: each language's two texts, empty where there are none. */
export function savedValues(answer: MailTextsAnswer): TextValues {
  const values = {} as TextValues;
  for (const language of textLanguages) {
    const saved = answer.texts.find((t) => t.language === language);
    for (const part of textParts) values[`${language}_${part}`] = saved?.[part] ?? '';
  }
  return values;
}

/**
 * The texts of both languages in one form, the preview controls beside them, and (after a preview) the exact
 * mail: its subject, its HTML in a sandboxed frame that runs nothing, its text part as it reads.
 */
export function mailTextsPage(
  mx: MailTextTexts,
  options: {
    answer: MailTextsAnswer;
    values: TextValues;
    errors: FieldErrors;
    csrf: string;
    mayEdit: boolean;
    choice: { kind: string; language: string };
    preview?: MailPreview | undefined;
    message?: string | undefined;
  },
): SafeHtml {
  const { answer, values, errors, csrf, mayEdit, choice, preview } = options;
  const id = answer.meetingId;
  const area = (language: TextLanguage, part: (typeof textParts)[number], label: string) => {
    const name: TextField = `${language}_${part}`;
    const error = errors[name];
    const limit = answer.limits[part];
    const describedBy = `${name}-hint${error ? ` ${name}-error` : ''}`;
    return html`<div class="field${error ? ' invalid' : ''}">
<label for="${name}">${label}</label>
<textarea id="${name}" name="${name}" rows="${part === 'introduction' ? 4 : 6}" maxlength="${limit}" aria-describedby="${describedBy}"${error ? html` aria-invalid="true"` : ''}${mayEdit ? '' : html` readonly`}>${values[name]}</textarea>
<p class="hint" id="${name}-hint">${mx.atMost(limit)}</p>
${error ? html`<p class="error" id="${name}-error">${error}</p>` : ''}
</div>`;
  };
  const saved = (language: TextLanguage) => {
    const found = answer.texts.find((t) => t.language === language);
    return found
      ? mx.lastSaved(found.updatedBy.name, shown(found.updatedAt, answer.meeting.timeZone))
      : mx.neverSaved;
  };
  const select = (name: 'kind' | 'language', label: string, options: [string, string][], chosen: string) =>
    html`<div class="field${errors[name] ? ' invalid' : ''}"><label for="${name}">${label}</label>
<select id="${name}" name="${name}">${options.map(([value, text]) => html`<option value="${value}"${value === chosen ? html` selected` : ''}>${text}</option>`)}</select>
${errors[name] ? html`<p class="error">${errors[name]}</p>` : ''}</div>`;
  return html`${options.message ? html`<p role="status" class="ok">${options.message}</p>` : ''}
<p>${mx.intro}</p>
<p>${mx.carriedBy}</p>
<ul>${answer.kinds.map((kind) => html`<li>${mx.kinds[kind] ?? kind}</li>`)}</ul>
<p>${mx.whenUsed}</p>
${mayEdit ? '' : html`<p class="note">${mx.readOnly}</p>`}
${Object.keys(errors).length ? html`<p role="alert" class="error">${mx.fixErrors}</p>` : ''}
<form method="post" action="/meetings/${id}/mail-texts" class="stack">
<input type="hidden" name="_csrf" value="${csrf}">
${textLanguages.map(
  (language) => html`<fieldset>
<legend>${mx.languages[language]}</legend>
${area(language, 'introduction', `${mx.introduction} (${mx.languages[language]})`)}
${area(language, 'practical', `${mx.practical} (${mx.languages[language]})`)}
<p>${saved(language)}</p>
</fieldset>`,
)}
<fieldset>
<legend>${mx.previewTitle}</legend>
${select(
  'kind',
  mx.mail,
  answer.kinds.map((kind) => [kind, mx.kinds[kind] ?? kind]),
  choice.kind,
)}
${select(
  'language',
  mx.language,
  textLanguages.map((language) => [language, mx.languages[language]]),
  choice.language,
)}
<button type="submit" formaction="/meetings/${id}/mail-texts/preview">${mx.preview}</button>
</fieldset>
${mayEdit ? html`<button type="submit">${mx.save}</button>` : ''}
</form>
${preview ? previewSection(mx, preview) : ''}
<p><a href="/meetings/${id}">${mx.back}</a></p>`;
}

/**
 * Style attributes, not classes: the frame's document is the mail itself, and the page that shows it is the
 * one answer whose policy lets style attributes through (the mail's own layout is made of them).
 */
function previewSection(mx: MailTextTexts, preview: MailPreview): SafeHtml {
  return html`<section aria-labelledby="preview-title">
<h2 id="preview-title">${mx.previewTitle}: ${mx.kinds[preview.kind] ?? preview.kind} (${preview.language})</h2>
<p>${mx.previewNote}</p>
<dl class="facts"><div><dt>${mx.subject}</dt><dd id="preview-subject">${preview.subject}</dd></div></dl>
<h3>${mx.htmlPart}</h3>
<iframe id="preview-html" title="${mx.htmlPart}" sandbox="" srcdoc="${preview.html}" style="width:100%;height:40rem;border:1px solid #c4c4c4"></iframe>
<h3>${mx.textPart}</h3>
<pre id="preview-text" style="white-space:pre-wrap;border:1px solid #c4c4c4;padding:1rem">${preview.text}</pre>
</section>`;
}
