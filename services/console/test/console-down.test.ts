// The console is a back office, not a link in the chain: with it stopped, people still register and get their
// mail, deal changes still reach webhook endpoints (set up through the console), and the machine keys it
// issued still work.
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { adminAuth, people, startConsoleSystem, Visitor } from './harness.ts';

// Services as processes on a shared 2-core machine: far slower than tap's default limit.
t.setTimeout(600_000);

const stack = await startConsoleSystem();
t.teardown(() => stack.close());
const { system } = stack;

t.test('with the console down, registration, mails, webhooks and keys go on', async (t) => {
  const office = new Visitor(stack.url);
  await office.login(people.beheerder.email);
  const endpoint = await office.submit('/deliveries', '/deliveries/webhooks', {
    url: system.hooks.url,
    description: 'Dashboard',
    eventType: '*',
  });
  t.equal(endpoint.status, 201, 'an endpoint made through the console');
  const issued = await office.submit('/keys', '/keys', {
    system: 'website',
    label: 'Website',
    scope: 'read',
  });
  t.equal(issued.status, 201, 'a key issued through the console');
  const key = /<code class="secret">([^<]+)<\/code>/.exec(issued.text)?.[1] ?? 'none';

  await stack.console.stop();
  await t.rejects(fetch(`${stack.url}/login`), 'the console does not answer');

  const meeting = (await system.call('registration', 'GET', '/meetings', {})).body.items[0];
  const email = 'zonder.console@gemeente.example.nl';
  const registered = await system.call('registration', 'POST', `/meetings/${meeting.id}/registrations`, {
    body: { name: 'Zoë Zonder', email, organisation: 'Gemeente Proef', role: 'projectleider' },
  });
  t.equal(registered.status, 201, 'registration takes the registration');
  const mail = await eventually(async () => system.mail.received.find((m) => m.to === email), 30_000);
  t.ok(mail, 'the confirmation mail goes out');

  const deals = (await system.call('deal_tracking', 'GET', '/deals?limit=500', { headers: adminAuth })).body
    .items;
  const deal = deals.find((d: { phase: string }) => d.phase === 'building');
  const moved = await system.call('deal_tracking', 'POST', `/deals/${deal.id}/transitions`, {
    body: { to: 'delivering', reason: 'Uitvoering gestart' },
    headers: { ...adminAuth, 'if-match': `"${deal.version}"` },
  });
  t.equal(moved.status, 200);
  const hook = await eventually(
    async () =>
      system.hooks.received.find((d) => d.dealId === deal.id && d.eventType.includes('phase_changed')),
    30_000,
  );
  t.ok(hook, 'the webhook endpoint gets the change');

  const read = await system.call('deal_tracking', 'GET', '/deals?limit=1', {
    headers: { authorization: `Bearer ${key}` },
  });
  t.equal(read.status, 200, 'the key issued through the console works without it');
});
