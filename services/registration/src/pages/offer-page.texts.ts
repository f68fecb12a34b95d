import type { Language } from '@citydeals/contracts';

/** The texts of the waitlist offer page (offer-page.routes.ts), Dutch and English. */
export const offerTexts = {
  nl: {
    title: 'Er is een plek vrij voor je',
    intro: (meeting: string) => `Er is een plek vrijgekomen bij ‘${meeting}’ en we houden hem voor je vast.`,
    when: 'Wanneer',
    deadline: (until: string) =>
      `Bevestig vóór ${until}; daarna gaat de plek naar de volgende op de wachtlijst.`,
    accept: 'Ja, ik kom: bevestig mijn plek',
    declineIntro:
      'Kun je toch niet? Dan geven we de plek meteen door. Je staat daarna niet meer op de wachtlijst.',
    decline: 'Nee, geef mijn plek door',
    acceptedTitle: 'Je plek is bevestigd',
    acceptedText:
      'Je bent aangemeld. Je krijgt een bevestiging per e-mail met de agenda-uitnodiging en je persoonlijke link.',
    declinedTitle: 'Plek doorgegeven',
    declinedText:
      'Dank je wel voor het laten weten. We hebben de plek doorgegeven aan de volgende op de wachtlijst.',
    expiredTitle: 'De tijd om te bevestigen is voorbij',
    expiredText:
      'Jammer: de plek is doorgegeven aan de volgende op de wachtlijst. Er is niets veranderd aan je aanmelding door deze klik. Wil je toch komen? Neem contact op met het programmabureau.',
    closedTitle: 'Dit aanbod geldt niet meer',
    closedText:
      'Deze plek is al bevestigd, afgeslagen of ingetrokken, of de bijeenkomst is niet meer open voor aanmelding.',
    cancelledTitle: 'De bijeenkomst is afgelast',
    cancelledText:
      'Deze bijeenkomst gaat niet door. Daarom geldt dit aanbod niet meer: er is geen plek om te bevestigen of door te geven.',
    unknownTitle: 'Onbekende link',
    unknownText: 'Deze link kennen we niet. Controleer of je de hele link uit de e-mail hebt gebruikt.',
    formError: 'Het formulier is verlopen. Probeer het nog een keer.',
  },
  en: {
    title: 'A seat is free for you',
    intro: (meeting: string) => `A seat came free at “${meeting}” and we are holding it for you.`,
    when: 'When',
    deadline: (until: string) =>
      `Confirm before ${until}; after that the seat goes to the next on the waitlist.`,
    accept: 'Yes, I will come: confirm my seat',
    declineIntro: 'Cannot make it after all? Then we pass the seat on at once. You then leave the waitlist.',
    decline: 'No, pass my seat on',
    acceptedTitle: 'Your seat is confirmed',
    acceptedText:
      'You are registered. A confirmation with the calendar invitation and your personal link follows by email.',
    declinedTitle: 'Seat passed on',
    declinedText: 'Thank you for letting us know. We passed the seat on to the next on the waitlist.',
    expiredTitle: 'The time to confirm is over',
    expiredText:
      'Sorry: the seat went to the next on the waitlist. This click changed nothing about your registration. Would you still like to come? Please contact the programme office.',
    closedTitle: 'This offer no longer stands',
    closedText:
      'This seat was confirmed, declined or withdrawn already, or the meeting is no longer open for registration.',
    cancelledTitle: 'The meeting was cancelled',
    cancelledText:
      'This meeting will not take place, so this offer no longer stands: there is no seat to confirm or pass on.',
    unknownTitle: 'Unknown link',
    unknownText: 'We do not know this link. Please check that you used the whole link from the email.',
    formError: 'The form expired. Please try again.',
  },
} satisfies Record<Language, unknown>;
