/**
 * Boundaries that keep the services independent (`npm run lint` runs this through `depcruise`).
 * A service talks to another only through events and HTTP, so it never imports another's code; packages are
 * shared by every service, so they import none; the contracts are the one thing producer and consumer
 * share, so they carry nothing but zod; `infra/` is reached by its package name, `@citydeals/infra`; and a
 * unit test (`*.unit.test.ts`, `npm run test:unit`) needs no server.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-service-imports-another-service',
      comment: 'services meet through events and HTTP only: no code of another service',
      severity: 'error',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'no-package-imports-a-service',
      comment: 'packages serve every service, so they depend on none of them',
      severity: 'error',
      from: { path: '^(packages|infra)/' },
      to: { path: '^services/' },
    },
    {
      name: 'contracts-depend-on-zod-only',
      comment: 'producer and consumer share the contracts: nothing but zod may come with them',
      severity: 'error',
      from: { path: '^packages/contracts/src/', pathNot: '\\.cli\\.ts$' },
      to: { pathNot: ['^packages/contracts/src/', '^node_modules/zod/'] },
    },
    {
      name: 'contracts-cli-depends-on-zod-and-node-only',
      comment: 'the AsyncAPI writer may also use node:fs and node:path to write its file',
      severity: 'error',
      from: { path: '^packages/contracts/src/.*\\.cli\\.ts$' },
      to: { pathNot: ['^packages/contracts/src/', '^node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'infra-by-package-name-only',
      comment: 'import infra as @citydeals/infra/…, never by a relative path into infra/',
      severity: 'error',
      from: { pathNot: '^infra/' },
      to: { path: '^infra/', dependencyTypes: ['local'] },
    },
    {
      name: 'no-reaching-into-another-workspace-by-path',
      comment: 'another workspace is imported by its @citydeals/… name, so its exports are its surface',
      severity: 'error',
      from: { path: '^(packages|services)/([^/]+)/' },
      to: { path: '^(packages|services)/', pathNot: '^$1/$2/', dependencyTypes: ['local'] },
    },
    {
      name: 'unit-tests-need-no-servers',
      comment: 'a *.unit.test.ts runs in npm run test:unit without Postgres or NATS: no clients, no testkit',
      severity: 'error',
      from: { path: '\\.unit\\.test\\.ts$' },
      to: { path: ['^node_modules/(pg|@nats-io/[^/]+|smtp-server|playwright-core)/', '^packages/testkit/'] },
    },
    {
      name: 'registration-meetings-below-registrations',
      comment:
        'registration: a registration is for a meeting, so registrations/ may use meetings/, never the reverse',
      severity: 'error',
      from: { path: '^services/registration/src/meetings/' },
      to: { path: '^services/registration/src/registrations/' },
    },
    {
      name: 'registration-seats-below-registrations',
      comment:
        'registration: seats/ owns capacity for meetings/ and registrations/ alike, so it uses meetings/ only',
      severity: 'error',
      from: { path: '^services/registration/src/seats/' },
      to: { path: '^services/registration/src/registrations/' },
    },
    {
      name: 'registration-meetings-do-not-reach-seats',
      comment:
        'registration: seats/ builds on meetings/ (the row it locks), so meetings/ does not use seats/',
      severity: 'error',
      from: { path: '^services/registration/src/meetings/' },
      to: { path: '^services/registration/src/seats/' },
    },
    {
      name: 'notification-reminders-do-not-import-email',
      comment:
        'reminders are planned by attendees/ and handed the mail queue (ReminderMails) in app.ts; reminders never import email/',
      severity: 'error',
      from: { path: '^services/notification/src/reminders/' },
      to: { path: '^services/notification/src/email/' },
    },
    {
      name: 'notification-email-does-not-import-reminders',
      comment:
        'email is the mail queue and its mails; what reminders need of it (ReminderMails) is handed to them in app.ts, and the attendee events that plan reminders and queue mails are handled in attendees/',
      severity: 'error',
      from: { path: '^services/notification/src/email/' },
      to: { path: '^services/notification/src/reminders/' },
    },
    {
      name: 'no-import-cycles-in-notification',
      comment:
        'a cycle of imports means none of its files can be read, or changed, on its own (type-only imports aside)',
      severity: 'error',
      from: { path: '^services/notification/src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing would hide a boundary crossing',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(packages|services)/[^/]+/dist/' },
    parser: 'swc',
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
