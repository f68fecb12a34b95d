/**
 * The pages behind the unsubscribe link in reminder mails. A click on the link only opens a page (mail
 * scanners follow links; a GET must change nothing); its one button posts to the same address as the
 * RFC 8058 one-click POST. No CSRF token: the secret token in the address is the authorisation, and a page
 * elsewhere cannot know it. No inline script or style, so a strict Content-Security-Policy fits.
 */
type Lang = 'nl' | 'en';

const texts = {
  nl: {
    title: 'Afmelden voor herinneringen',
    ask: 'Wil je geen herinneringsmails meer ontvangen? Bevestigingen en wijzigingen van je bijeenkomsten krijg je wel.',
    button: 'Geen herinneringen meer',
    doneTitle: 'Je bent afgemeld voor herinneringen',
    done: 'Je krijgt geen herinneringsmails meer. Bevestigingen en wijzigingen van je bijeenkomsten krijg je wel.',
    again: 'Toch weer herinneringen ontvangen',
    backTitle: 'Je ontvangt weer herinneringen',
    back: 'Herinneringen die vanaf nu verstuurd worden, komen weer bij je aan.',
    unknownTitle: 'Link niet gevonden',
    unknown: 'Deze afmeldlink is ongeldig. Gebruik de link uit je meest recente herinneringsmail.',
  },
  en: {
    title: 'Unsubscribe from reminders',
    ask: 'Do you no longer want reminder emails? You still receive confirmations and changes to your meetings.',
    button: 'No more reminders',
    doneTitle: 'You are unsubscribed from reminders',
    done: 'You will no longer receive reminder emails. You still receive confirmations and changes to your meetings.',
    again: 'Receive reminders again',
    backTitle: 'You receive reminders again',
    back: 'Reminders sent from now on will reach you again.',
    unknownTitle: 'Link not found',
    unknown: 'This unsubscribe link is not valid. Use the link from your most recent reminder email.',
  },
} as const;

function h(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function page(lang: Lang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)}</title>
</head>
<body>
<main>
<h1>${h(title)}</h1>
${body}
</main>
</body>
</html>`;
}

function button(action: string, label: string): string {
  return `<form method="post" action="${h(action)}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">${h(label)}</button>
</form>`;
}

export const unsubscribePages = {
  ask: (lang: Lang, action: string) =>
    page(lang, texts[lang].title, `<p>${h(texts[lang].ask)}</p>\n${button(action, texts[lang].button)}`),
  done: (lang: Lang, resubscribeAction: string) =>
    page(
      lang,
      texts[lang].doneTitle,
      `<p role="status">${h(texts[lang].done)}</p>\n${button(resubscribeAction, texts[lang].again)}`,
    ),
  back: (lang: Lang) => page(lang, texts[lang].backTitle, `<p role="status">${h(texts[lang].back)}</p>`),
  unknown: (lang: Lang) => page(lang, texts[lang].unknownTitle, `<p>${h(texts[lang].unknown)}</p>`),
};
