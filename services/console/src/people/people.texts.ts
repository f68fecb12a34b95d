import type { Language } from '../web/texts.ts';

const nl = {
  title: 'Mensen',
  people: 'Mensen en sleutels',
  keysLink: 'Machinesleutels',
  add: 'Account toevoegen',
  name: 'Naam',
  email: 'E-mailadres',
  role: 'Rol',
  state: 'Status',
  active: 'actief',
  disabled: 'uitgeschakeld',
  locked: 'tijdelijk geblokkeerd',
  change: 'Wijzigen',
  changeRoleOf: 'Rol wijzigen van',
  disable: 'Uitschakelen',
  enable: 'Weer inschakelen',
  create: 'Toevoegen',
  created: 'Account aangemaakt. Geef dit wachtwoord één keer door; het wordt niet opnieuw getoond:',
  ssoHint: 'Met single sign-on logt deze persoon in via de organisatie en is het wachtwoord niet nodig.',
  changed: 'Het account is gewijzigd.',
  lastBeheerder: 'Dit is de laatste actieve beheerder: die blijft beheerder.',
  self: 'U kunt uw eigen account niet uitschakelen.',
  noChange: 'Er verandert niets.',
  exists: 'Er is al een account met dit e-mailadres.',
  invalid: 'Controleer de velden:',
  roles: {
    beheerder: 'beheerder — alles, ook mensen en sleutels',
    redacteur: 'redacteur — bijeenkomsten, deelnemers, deals, verzendingen',
    deur: 'deur — inchecken bij de bijeenkomst van vandaag',
    lezer: 'lezer — alleen lezen',
  },
};

export type PeopleTexts = typeof nl;

const en: PeopleTexts = {
  title: 'People',
  people: 'People and keys',
  keysLink: 'Machine keys',
  add: 'Add an account',
  name: 'Name',
  email: 'Email address',
  role: 'Role',
  state: 'State',
  active: 'active',
  disabled: 'disabled',
  locked: 'locked for now',
  change: 'Change',
  changeRoleOf: 'Change the role of',
  disable: 'Disable',
  enable: 'Enable again',
  create: 'Add',
  created: 'Account created. Hand over this password once; it is not shown again:',
  ssoHint: 'With single sign-on this person logs in through the organisation and needs no password.',
  changed: 'The account has changed.',
  lastBeheerder: 'This is the last active beheerder: it stays beheerder.',
  self: 'You cannot disable your own account.',
  noChange: 'Nothing changes.',
  exists: 'An account with this email address exists already.',
  invalid: 'Check the fields:',
  roles: {
    beheerder: 'beheerder — everything, people and keys too',
    redacteur: 'redacteur — meetings, attendees, deals, deliveries',
    deur: 'deur — check-in at today’s meeting',
    lezer: 'lezer — read only',
  },
};

export function peopleTexts(language: Language): PeopleTexts {
  return language === 'en' ? en : nl;
}
