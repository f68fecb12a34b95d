// The public pages: the form in Dutch, errors next to fields, confirmation, manage and cancel.
import t from 'tap';
import {
  adminHeaders,
  countRows,
  createMeeting,
  dealIds,
  formPost,
  insertDeals,
  openForm,
  projectedDeals,
  solveProofOfWork,
  startRegistration,
  TestClock,
} from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock, {
  PROOF_OF_WORK_COST: '1',
  PROOF_OF_WORK_MAX_COUNTER: '20',
});
t.teardown(() => ctx.close());
const { http } = ctx.service;
const svc = ctx.service;
await insertDeals(svc, projectedDeals);

t.test('public pages: form in Dutch, errors next to fields, confirmation, manage and cancel', async (t) => {
  const meeting = await createMeeting(svc, { capacity: 1, title: 'CoP <paginatest>' });
  const page = await http.inject(`/bijeenkomsten/${meeting.slug}`);
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], 'text/html');
  t.match(page.body, '<html lang="nl">');
  t.match(page.body, 'CoP &lt;paginatest&gt;', 'escaped');
  t.match(page.body, '<label for="email">E-mailadres <span class="req">(verplicht)</span></label>');
  t.match(page.body, 'Fietsen voor Iedereen', 'deals from the projection');
  t.match(
    page.body,
    '<dt>Adres</dt><dd>Voormalig PTT-terrein, Den Haag</dd>',
    'the public page shows where the meeting is',
  );
  t.match((await http.inject(`/bijeenkomsten/${meeting.slug}?lang=en`)).body, '<html lang="en">');

  const opened = await openForm(svc, `/bijeenkomsten/${meeting.slug}`);
  t.match(opened.cookie, /^cdcop_csrf=[A-Za-z0-9_-]{22}$/, 'the page sets the CSRF cookie');
  t.match(String(page.headers['set-cookie']), /HttpOnly; SameSite=Strict; Secure/);
  t.match(page.body, '<altcha-widget id="altcha" challenge="/aanmelding/pow-challenge" name="altcha"');
  t.notMatch(page.body, /<style|style=|<script>/, 'no inline style or script');
  const form = (fields: Record<string, string>) =>
    formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, opened.cookie, { csrf: opened.csrf, ...fields });
  const rows = await countRows(svc, 'registration');
  const bad = await http.inject(
    form({ name: 'Iris', email: 'geen-adres', organisation: '', role: '', language: 'nl' }),
  );
  t.equal(bad.statusCode, 400);
  t.match(bad.body, '<p class="error" id="email-error">Vul een geldig e-mailadres in');
  t.match(
    bad.body,
    'id="email" name="email" value="geen-adres" required aria-required="true" autocomplete="email" aria-invalid="true" aria-describedby="email-error"',
  );
  t.match(bad.body, 'id="organisation-error"');
  t.match(bad.body, 'id="role-error"');
  t.equal(await countRows(svc, 'registration'), rows, 'nothing written');

  const iris = {
    name: 'Iris',
    email: 'iris@example.org',
    organisation: 'Gemeente Delft',
    role: 'projectsecretaris',
    dealId: dealIds.lopen,
    consentPhoto: 'ja',
    language: 'nl',
  };
  const noWork = await http.inject(form(iris));
  t.equal(noWork.statusCode, 400, 'no proof of work: refused');
  t.match(noWork.body, 'id="altcha-error"');
  const forged = await http.inject(
    form({ ...iris, altcha: Buffer.from('{"challenge":{}}').toString('base64') }),
  );
  t.equal(forged.statusCode, 400, 'a made-up proof of work: refused');
  const work = await solveProofOfWork(svc);
  const noCsrf = await http.inject(
    formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, '', { ...iris, altcha: work }),
  );
  t.equal(noCsrf.statusCode, 403, 'no CSRF cookie and field: refused');
  const otherCookie = await http.inject(
    formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, 'cdcop_csrf=AAAAAAAAAAAAAAAAAAAAAA', {
      ...iris,
      csrf: opened.csrf,
      altcha: work,
    }),
  );
  t.equal(otherCookie.statusCode, 403, 'the field of another cookie: refused');
  t.equal(await countRows(svc, 'registration'), rows, 'nothing written');
  const ok = await http.inject(form({ ...iris, altcha: work }));
  const replayed = await http.inject(form({ ...iris, email: 'iris2@example.org', altcha: work }));
  t.equal(replayed.statusCode, 400, 'a proof of work counts once');
  t.equal(ok.statusCode, 201);
  t.match(ok.body, 'Je bent aangemeld');
  const link = /href="(https:\/\/cop\.example\.org\/aanmelding\/beheren\/[^"]+)"/.exec(ok.body)?.[1];
  t.ok(link, 'the confirmation shows the manage link');
  const path = new URL(link!).pathname;

  const second = await http.inject(
    form({
      name: 'Bart',
      email: 'bart@example.org',
      organisation: 'Gemeente',
      role: 'other',
      language: 'nl',
      altcha: await solveProofOfWork(svc),
    }),
  );
  t.match(second.body, 'Je staat op plek 1 van de wachtlijst');

  const manage = await http.inject({ url: path, headers: { cookie: opened.cookie } });
  t.equal(manage.statusCode, 200);
  const manageCsrf = /name="csrf" value="([^"]+)"/.exec(manage.body)![1]!;
  t.match(manage.body, 'Voormalig PTT-terrein, Den Haag', 'the attendee sees the address');
  t.equal(manage.headers['cache-control'], 'no-store');
  const post = (suffix: string, fields: Record<string, string>) =>
    http.inject(formPost(`${path}/${suffix}`, opened.cookie, { csrf: manageCsrf, ...fields }));
  t.equal(
    (await http.inject(formPost(`${path}/afmelden`, '', { confirm: 'ja', language: 'nl' }))).statusCode,
    403,
    'cancelling without the CSRF field: refused',
  );
  t.match(
    (await post('wensen', { dietaryNeeds: 'glutenvrij', language: 'nl' })).body,
    'Je wensen zijn opgeslagen',
  );
  const unconfirmed = await post('afmelden', { language: 'nl' });
  t.equal(unconfirmed.statusCode, 400, 'cancelling needs the confirmation box');
  t.match(unconfirmed.body, 'id="confirm-error"');
  t.match(
    manage.body,
    /<label class="check" for="confirm"><input type="checkbox" id="confirm" name="confirm" value="ja" required[^>]*> <span>[^<]+<\/span><\/label>/,
    'the cancel box sits inside its label',
  );
  const done = await post('afmelden', { confirm: 'ja', language: 'nl' });
  t.equal(done.statusCode, 200);
  t.match(done.body, 'Je bent afgemeld');
  const bart = (
    await http.inject({ url: `/admin/meetings/${meeting.id}/registrations?q=bart`, headers: adminHeaders })
  ).json().items[0];
  t.equal(bart.status, 'confirmed', 'the waitlist moved up');
  t.equal((await http.inject('/aanmelding/beheren/onzin')).statusCode, 404);
});
