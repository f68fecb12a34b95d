import type { Language } from '../web/texts.ts';

const nl = {
  title: 'Machinesleutels',
  intro:
    'Eén sleutel per systeem dat de diensten uitleest. De sleutel geldt bij registratie, deals en berichten; intrekken werkt meteen bij alle drie.',
  peopleLink: 'Mensen',
  system: 'Systeem',
  label: 'Omschrijving',
  scopes: 'Rechten',
  lastUsed: 'Laatst gebruikt',
  never: 'nooit',
  createdBy: 'Uitgegeven door',
  state: 'Status',
  live: 'geldig',
  revoked: 'ingetrokken',
  revoke: 'Intrekken',
  issue: 'Sleutel uitgeven',
  issueButton: 'Uitgeven',
  issued:
    'Sleutel uitgegeven. Kopieer hem nu naar het systeem; hij wordt niet opnieuw getoond. Meesturen als Authorization: Bearer <sleutel>.',
  revokedNow: 'De sleutel is ingetrokken bij alle diensten.',
  revokeFailed: 'Niet alle diensten antwoordden; de sleutel werkt daar nog. Probeer opnieuw:',
  issueFailed: 'Een dienst weigerde de sleutel; er is niets uitgegeven:',
  perService: 'Per dienst',
  unknown: 'onbekend (dienst antwoordt niet)',
  missing: 'ontbreekt',
  systems: { website: 'Programmawebsite', dashboard: 'Dashboard ministerie', evaluation: 'Evaluatie' },
  scopeNames: { read: 'lezen', admin: 'beheer (alles)' },
  backends: { registration: 'registratie', dealTracking: 'deals', notification: 'berichten' },
};

export type KeysTexts = typeof nl;

const en: KeysTexts = {
  title: 'Machine keys',
  intro:
    'One key per system that reads the services. The key is valid at registration, deals and notification; revoking it works at once at all three.',
  peopleLink: 'People',
  system: 'System',
  label: 'Description',
  scopes: 'Scopes',
  lastUsed: 'Last used',
  never: 'never',
  createdBy: 'Issued by',
  state: 'State',
  live: 'valid',
  revoked: 'revoked',
  revoke: 'Revoke',
  issue: 'Issue a key',
  issueButton: 'Issue',
  issued:
    'Key issued. Copy it to the system now; it is not shown again. Send it as Authorization: Bearer <key>.',
  revokedNow: 'The key is revoked at every service.',
  revokeFailed: 'Not every service answered; the key still works there. Try again:',
  issueFailed: 'A service refused the key; nothing was issued:',
  perService: 'Per service',
  unknown: 'unknown (service does not answer)',
  missing: 'missing',
  systems: { website: 'Programme website', dashboard: 'Ministry dashboard', evaluation: 'Evaluation' },
  scopeNames: { read: 'read', admin: 'admin (everything)' },
  backends: { registration: 'registration', dealTracking: 'deals', notification: 'notification' },
};

export function keysTexts(language: Language): KeysTexts {
  return language === 'en' ? en : nl;
}
