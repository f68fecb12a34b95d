import type { Language } from '../web/texts.ts';

/** The mail-text page's words, kept beside it so the shared texts stay small. */
const nl = {
  title: (meeting: string) => `Teksten in de mails: ${meeting}`,
  intro:
    'Een introductie (boven de gegevens van de bijeenkomst) en praktische informatie (eronder), per taal. ' +
    'Platte tekst; een lege regel begint een nieuwe alinea. Deelnemers krijgen de tekst in hun eigen taal; ' +
    'zonder tekst in die taal krijgen ze geen van beide.',
  carriedBy: 'Deze teksten staan in:',
  whenUsed:
    'Een mail krijgt de teksten die er zijn op het moment dat hij klaargezet wordt: een herinnering die nog ' +
    'moet komen krijgt dus de nieuwe tekst, een mail die al verstuurd of klaargezet is niet.',
  languages: { nl: 'Nederlands', en: 'Engels' } as Record<Language, string>,
  introduction: 'Introductie',
  practical: 'Praktische informatie',
  atMost: (n: number) => `Hoogstens ${n} tekens.`,
  lastSaved: (who: string, when: string) => `Laatst opgeslagen door ${who} op ${when}.`,
  neverSaved: 'Nog geen tekst.',
  preview: 'Voorbeeld bekijken',
  previewTitle: 'Voorbeeld van de mail',
  previewNote:
    'Precies zoals de mail verstuurd wordt, met een voorbeeldnaam en zonder persoonlijke links. Nog niet opgeslagen.',
  mail: 'Mail',
  language: 'Taal',
  subject: 'Onderwerp',
  htmlPart: 'Opgemaakte versie (HTML)',
  textPart: 'Tekstversie',
  save: 'Opslaan',
  saved: 'Opgeslagen. Mails die vanaf nu klaargezet worden, krijgen deze teksten.',
  readOnly: 'Je kunt deze teksten lezen, niet wijzigen.',
  fixErrors: 'Niet opgeslagen: verbeter de gemarkeerde velden.',
  back: 'Terug naar de bijeenkomst',
  kinds: {
    registration_confirmed: 'Bevestiging van de aanmelding',
    promoted: 'Plaats vrijgekomen (van de wachtlijst)',
    reminder: 'Herinnering',
    meeting_changed: 'Wijziging (titel, locatie, link)',
    meeting_rescheduled: 'Nieuwe datum',
  } as Record<string, string>,
};

export type MailTextTexts = typeof nl;

const en: MailTextTexts = {
  title: (meeting: string) => `Texts in the mails: ${meeting}`,
  intro:
    'An introduction (above the meeting’s details) and practical information (below them), per language. ' +
    'Plain text; a blank line starts a new paragraph. Attendees get the text in their own language; without ' +
    'a text in that language they get neither.',
  carriedBy: 'These texts are in:',
  whenUsed:
    'A mail gets the texts there are when it is queued: a reminder still to come gets the new text, a mail ' +
    'already sent or queued does not.',
  languages: { nl: 'Dutch', en: 'English' },
  introduction: 'Introduction',
  practical: 'Practical information',
  atMost: (n: number) => `At most ${n} characters.`,
  lastSaved: (who: string, when: string) => `Last saved by ${who} on ${when}.`,
  neverSaved: 'No text yet.',
  preview: 'Show preview',
  previewTitle: 'Preview of the mail',
  previewNote: 'Exactly as the mail is sent, with a sample name and no personal links. Not saved yet.',
  mail: 'Mail',
  language: 'Language',
  subject: 'Subject',
  htmlPart: 'Formatted version (HTML)',
  textPart: 'Text version',
  save: 'Save',
  saved: 'Saved. Mails queued from now on carry these texts.',
  readOnly: 'You can read these texts, not change them.',
  fixErrors: 'Not saved: correct the marked fields.',
  back: 'Back to the meeting',
  kinds: {
    registration_confirmed: 'Registration confirmed',
    promoted: 'A seat came free (from the waitlist)',
    reminder: 'Reminder',
    meeting_changed: 'Change (title, venue, link)',
    meeting_rescheduled: 'New date',
  },
};

export function mailTextTexts(language: Language): MailTextTexts {
  return language === 'en' ? en : nl;
}
