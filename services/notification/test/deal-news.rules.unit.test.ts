import t from 'tap';
import {
  chooseDealNews,
  type DealChange,
  isLastReminder,
  type MeetingAt,
  previousMeeting,
} from '../src/deal-news/deal-news.rules.ts';
import { dealNewsView } from '../src/deal-news/deal-news.view.ts';
import { renderMail } from '../src/email/email.templates.ts';

const day = 86_400_000;
const at = (iso: string) => new Date(iso);
const meeting = (id: string, startsAt: string, status = 'published'): MeetingAt => ({
  id,
  startsAt: at(startsAt),
  status,
});

// Given: a meeting in March, the one in November before it, a cancelled one in January between them, an
// older one in June, and one after March.
const march = meeting('march', '2027-03-11T12:00:00Z');
const meetings = [
  meeting('june', '2026-06-10T12:00:00Z'),
  meeting('november', '2026-11-23T12:00:00Z'),
  meeting('january', '2027-01-20T12:00:00Z', 'cancelled'),
  march,
  meeting('june-next', '2027-06-10T12:00:00Z'),
];

const change = (
  dealId: string,
  occurredAt: string,
  detail: DealChange['detail'],
  version = 1,
  dealName: string | null = dealId,
): DealChange => ({ dealId, dealName, occurredAt: at(occurredAt), version, detail });

t.test('the previous meeting: the latest one not cancelled that started before this one', async (t) => {
  t.equal(previousMeeting(march, meetings)?.id, 'november', 'the cancelled January meeting is passed over');
  t.equal(previousMeeting(meetings[1]!, meetings)?.id, 'june');
  t.equal(previousMeeting(meetings[0]!, meetings), null, 'the first meeting has none');
});

t.test('only the last reminder, the one with the shortest offset, carries the news', async (t) => {
  t.ok(isLastReminder('P1D', ['P7D', 'P1D']));
  t.notOk(isLastReminder('P7D', ['P7D', 'P1D']));
  t.ok(isLastReminder('PT2H', ['PT2H', 'P1W', 'P1D']), 'whatever the order the offsets are listed in');
  t.ok(isLastReminder('P7D', ['P7D']), 'a single reminder is the last');
  t.notOk(isLastReminder('P3D', ['P7D', 'P1D']), 'an offset the meeting no longer has is not');
});

t.test('the news: exactly the changes between the previous meeting and now, own deal first', async (t) => {
  // When: changes before, at and after the previous meeting's start, after now, and in the future.
  const now = at('2027-03-10T12:00:00Z');
  const changes = [
    change('slimme-stad', '2026-11-23T11:59:59Z', { kind: 'result', title: 'before November' }),
    change('slimme-stad', '2026-11-23T12:00:00Z', { kind: 'result', title: 'at November’s start' }),
    change('slimme-stad', '2026-11-23T12:00:01Z', { kind: 'result', title: 'Toolbox adopted' }, 2),
    change('fietsen', '2027-01-25T09:00:00Z', { kind: 'phase_changed', from: 'signed', to: 'building' }, 3),
    change('fietsen', '2027-01-05T09:00:00Z', { kind: 'lesson', lessonKind: 'setback', text: 'Too fast' }, 2),
    change('energieke-wijken', '2027-03-10T12:00:00Z', { kind: 'result', title: 'ISDE rule' }, 4),
    change('energieke-wijken', '2027-03-10T12:00:01Z', { kind: 'result', title: 'after now' }, 5),
  ];
  const news = chooseDealNews({ meeting: march, meetings, changes, attendeeDealId: 'fietsen', now });
  // Then
  t.same(
    news.map((n) => [n.dealId, n.own, n.changes.map((c) => c.detail)]),
    [
      [
        'fietsen',
        true,
        [
          { kind: 'lesson', lessonKind: 'setback', text: 'Too fast' },
          { kind: 'phase_changed', from: 'signed', to: 'building' },
        ],
      ],
      ['energieke-wijken', false, [{ kind: 'result', title: 'ISDE rule' }]],
      ['slimme-stad', false, [{ kind: 'result', title: 'Toolbox adopted' }]],
    ],
    'the window is (previous start, now]; own deal first, the others by name, changes in time order',
  );
  const without = chooseDealNews({ meeting: march, meetings, changes, attendeeDealId: null, now });
  t.same(
    without.map((n) => n.dealId),
    ['energieke-wijken', 'fietsen', 'slimme-stad'],
    'without a deal of their own: by name',
  );
});

t.test('no previous meeting or nothing moved: no news, and the section is left out', async (t) => {
  const now = at('2027-03-10T12:00:00Z');
  const changes = [change('fietsen', '2027-01-25T09:00:00Z', { kind: 'result', title: 'x' })];
  t.same(chooseDealNews({ meeting: march, meetings: [march], changes, attendeeDealId: null, now }), []);
  t.same(chooseDealNews({ meeting: march, meetings, changes: [], attendeeDealId: null, now }), []);
  const mail = (dealNews: ReturnType<typeof chooseDealNews>) =>
    renderMail('reminder', 'en', {
      name: 'Anna',
      meeting: {
        title: 'CoP',
        startsAt: march.startsAt,
        endsAt: new Date(march.startsAt.getTime() + day / 6),
        timeZone: 'Europe/Amsterdam',
        venueName: 'Hangar',
        venueAddress: 'Den Haag',
        onlineUrl: null,
      },
      manageUrl: 'https://example.org/manage',
      reminderOffset: 'P1D',
      unsubscribeUrl: 'https://example.org/unsubscribe',
      dealNews,
    });
  const empty = mail([]);
  t.notMatch(empty.text, /What moved/);
  t.notMatch(empty.html, /What moved/);
  t.notMatch(empty.text, /\n\n\n/, 'no blank lines where the section would be');
  const full = mail(chooseDealNews({ meeting: march, meetings, changes, attendeeDealId: 'fietsen', now }));
  t.match(
    full.text,
    /What moved in the deals since the last meeting\n\nfietsen \(your deal\)\n- New result: x\n/,
  );
  t.match(full.html, /<strong>fietsen<\/strong> \(your deal\)/);
});

t.test('the view names phases and lessons in the mail’s language, and deals not yet named', async (t) => {
  const news = [
    {
      dealId: 'd',
      dealName: null,
      own: false,
      changes: [
        change('d', '2027-01-01T00:00:00Z', { kind: 'phase_changed', from: 'delivering', to: 'securing' }),
        change('d', '2027-01-02T00:00:00Z', { kind: 'lesson', lessonKind: 'success', text: 'Samen' }),
      ],
    },
  ];
  t.same(dealNewsView('nl', news), [
    {
      name: 'Een deal',
      own: false,
      changes: [
        { kind: 'phase_changed', from: 'resultaten boeken', to: 'borgen en opschalen' },
        { kind: 'lesson', lessonKind: 'succes', text: 'Samen' },
      ],
    },
  ]);
  t.same(dealNewsView('en', news)[0]?.changes[0], {
    kind: 'phase_changed',
    from: 'delivering results',
    to: 'securing and scaling up',
  });
  t.equal(dealNewsView('en', news)[0]?.name, 'A deal');
});
