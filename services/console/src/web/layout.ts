import type { StaffRole } from '@citydeals/service-kit';
import { may } from '../accounts/account.rules.ts';
import { html, type SafeHtml } from './html.ts';
import type { Language, Texts } from './texts.ts';

export interface PageContext {
  lang: Language;
  t: Texts;
  /** The path of the page, for the language switch to come back to. */
  path: string;
  staff?: { name: string; role: StaffRole; csrfToken: string } | undefined;
}

/** Every page: no inline script or style (the CSP forbids them), landmarks, a skip link, the language switch. */
export function layout(page: PageContext, title: string, main: SafeHtml): string {
  const { t, staff } = page;
  const nav = staff
    ? html`<nav aria-label="${t.console}"><ul>
        ${may(staff.role, 'view') ? html`<li><a href="/">${t.overview}</a></li>` : ''}
        ${may(staff.role, 'door') ? html`<li><a href="/door">${t.door}</a></li>` : ''}
        ${may(staff.role, 'view') ? html`<li><a href="/deals">${t.deals}</a></li>` : ''}
        ${may(staff.role, 'deliveries') ? html`<li><a href="/deliveries">${t.deliveries}</a></li>` : ''}
        ${may(staff.role, 'manage-accounts') ? html`<li><a href="/people">${t.peopleAndKeys}</a></li>` : ''}
        ${may(staff.role, 'meetings') ? html`<li><a href="/meetings">${t.meetings}</a></li>` : ''}
      </ul></nav>
      <form method="post" action="/logout" class="logout">
        <input type="hidden" name="_csrf" value="${staff.csrfToken}">
        <span>${t.loggedInAs} ${staff.name} (${staff.role})</span>
        <button type="submit">${t.logout}</button>
      </form>`
    : '';
  const other = page.lang === 'nl' ? 'en' : 'nl';
  return html`<!doctype html>
<html lang="${page.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${t.console}</title>
<link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">${t.skip}</a>
<header>
  <p class="brand">${t.console}</p>
  ${nav}
  <a class="lang" lang="${other}" href="/language?to=${other}&amp;back=${encodeURIComponent(page.path)}">${t.otherLanguage}</a>
</header>
<main id="main">
<h1>${title}</h1>
${main}
</main>
</body>
</html>`.value;
}
