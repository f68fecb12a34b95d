// Name badges as the office prints them: the PDF is read back and each label's text is where its label is.
import t from 'tap';
import {
  adminHeaders,
  createMeeting,
  insertDeals,
  registerPerson,
  startRegistration,
  TestClock,
} from '../harness.ts';

const clock = new TestClock(new Date('2027-01-10T10:00:00Z'));
const ctx = await startRegistration(clock);
t.teardown(() => ctx.close());
const { http } = ctx.service;

const dealId = '01936a11-0000-7000-8000-0000000000b1';
await insertDeals(ctx.service, [
  { id: dealId, name: 'Energieke Wijken, Duurzaam en Sociaal', phase: 'delivering' },
]);

const meeting = await createMeeting(ctx.service, { capacity: 16 });
// Names beyond Windows-1252 (the PDF's built-in fonts) and one far too long for a label.
const names = [
  'Zoë de Wit',
  'Łukasz Wiśniewski',
  'Ayşe Yılmaz',
  'Anne-Marije van den Berg-Oosterhuis van Nieuwenhuizen tot Schaffelaar',
  ...Array.from({ length: 12 }, (_, i) => `Deelnemer ${String(i + 1).padStart(2, '0')}`),
];
for (const [i, name] of names.entries()) {
  const res = await registerPerson(ctx.service, meeting.id, {
    name,
    email: `badge${i}@example.org`,
    organisation: i % 2 ? 'Gemeente Utrecht' : 'Ministerie van BZK',
    role: 'projectleider',
    dealId: i < 3 ? dealId : null,
  });
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
}
const waiting = await registerPerson(ctx.service, meeting.id, {
  name: 'Wachtende Persoon',
  email: 'badge-wait@example.org',
  organisation: 'Provincie',
  role: 'partner',
});
if (waiting.json().status !== 'waitlisted') throw new Error('the 17th should wait');

interface TextItem {
  page: number;
  text: string;
  x: number;
  /** From the top of the page, in points. */
  y: number;
}

async function readPdf(
  bytes: Buffer,
): Promise<{ pages: number; items: TextItem[]; width: number; height: number }> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await getDocument({ data: new Uint8Array(bytes), verbosity: 0 }).promise;
  const items: TextItem[] = [];
  let width = 0;
  let height = 0;
  for (let p = 1; p <= doc.numPages; p++) {
    const page = await doc.getPage(p);
    const view = page.getViewport({ scale: 1 });
    width = view.width;
    height = view.height;
    const content = await page.getTextContent();
    for (const item of content.items) {
      if (!('str' in item) || item.str.trim() === '') continue;
      items.push({ page: p - 1, text: item.str, x: item.transform[4], y: view.height - item.transform[5] });
    }
  }
  return { pages: doc.numPages, items, width, height };
}

const mm = 72 / 25.4;

t.test('Avery L7163: 14 a sheet, each badge inside its label, every name readable', async (t) => {
  const res = await http.inject({
    method: 'GET',
    url: `/admin/meetings/${meeting.id}/badges.pdf`,
    headers: adminHeaders,
  });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /application\/pdf/);
  t.match(res.headers['content-disposition'], /badges-.*\.pdf/);
  t.equal(res.headers['x-badge-count'], '16', 'the seated, not the waiting');
  const pdf = await readPdf(res.rawPayload);
  t.equal(pdf.pages, 2, '16 badges on two sheets');
  t.ok(Math.abs(pdf.width - 210 * mm) < 1 && Math.abs(pdf.height - 297 * mm) < 1, 'A4');

  const sorted = [...names].sort(new Intl.Collator('nl', { sensitivity: 'base' }).compare);
  sorted.forEach((name, i) => {
    const page = Math.floor(i / 14);
    const slot = i % 14;
    const left = (4.65 + (slot % 2) * 101.6) * mm;
    const top = (15.15 + Math.floor(slot / 2) * 38.1) * mm;
    const inLabel = pdf.items.filter(
      (item) =>
        item.page === page &&
        item.x >= left &&
        item.x <= left + 99.1 * mm &&
        item.y >= top &&
        item.y <= top + 38.1 * mm,
    );
    const text = inLabel.map((item) => item.text).join(' ');
    if (name.length > 40)
      t.match(text, name.slice(0, 12), `label ${i + 1}: a long name starts as written, shrunk or cut to fit`);
    else t.match(text, name, `label ${i + 1} (sheet ${page + 1}): ${name}`);
    t.match(text, /Gemeente Utrecht|Ministerie van BZK/, `label ${i + 1}: the organisation`);
  });
  const withDeal = pdf.items.filter((item) => item.text.includes('Energieke Wijken'));
  t.equal(withDeal.length, 3, 'the deal on the three badges of its people');
  t.notOk(
    pdf.items.some((item) => item.text.includes('Wachtende')),
    'nobody from the waitlist',
  );
});

t.test('A6 cards for badge holders: four a sheet; checked-in only when asked', async (t) => {
  const res = await http.inject({
    method: 'GET',
    url: `/admin/meetings/${meeting.id}/badges.pdf?layout=a6-4up`,
    headers: adminHeaders,
  });
  t.equal(res.statusCode, 200);
  t.equal((await readPdf(res.rawPayload)).pages, 4);
  const none = await http.inject({
    method: 'GET',
    url: `/admin/meetings/${meeting.id}/badges.pdf?who=checked_in`,
    headers: adminHeaders,
  });
  t.equal(none.headers['x-badge-count'], '0', 'nobody is checked in yet');
  t.equal((await readPdf(none.rawPayload)).pages, 1, 'an empty sheet, still a valid PDF');
});

t.test('bad input: a problem naming the field; unknown meeting 404; key needed', async (t) => {
  const bad = await http.inject({
    method: 'GET',
    url: `/admin/meetings/${meeting.id}/badges.pdf?layout=l7160`,
    headers: adminHeaders,
  });
  t.equal(bad.statusCode, 400);
  t.ok(bad.json().errors.some((e: { field: string }) => e.field === 'querystring.layout'));
  const unknown = await http.inject({
    method: 'GET',
    url: '/admin/meetings/01936a11-0000-7000-8000-0000000000ff/badges.pdf',
    headers: adminHeaders,
  });
  t.equal(unknown.statusCode, 404);
  t.equal((await http.inject(`/admin/meetings/${meeting.id}/badges.pdf`)).statusCode, 401);
});
