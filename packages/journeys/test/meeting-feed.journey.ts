/**
 * A meeting's public life as another system sees it, end to end: registration and notification run as
 * processes against the shared Postgres and NATS (a database each, one event namespace); the office edits
 * the meeting, people register and check in; a real HTTP receiver of this test gets the webhooks
 * and checks them with the Standard Webhooks library, and the test reads registration's change feed. Both
 * must say the same, and no field of either may name any of the people, addresses or organisations used.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminHeaders, countFields, eventually, findPersonalData } from '@citydeals/testkit';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import type { Test } from 'tap';
import type { JourneySystem } from './journey-system.ts';

/** The settings this journey needs of registration and notification. */
export const meetingFeedEnv = {
  registration: {
    MEETING_FEED_INTERVAL_MS: '100',
    // Every level change at once here; the throttle is shown by services/registration/test/meeting-feed.test.ts.
    MEETING_FEED_THROTTLE_MS: '0',
  },
  notification: {
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    WEBHOOK_ALLOWED_PORTS: '*',
    WEBHOOK_POLL_INTERVAL: '50ms',
  },
};

async function call(base: string, method: 'GET' | 'POST' | 'PATCH', path: string, payload?: object) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...adminHeaders, ...(payload ? { 'content-type': 'application/json' } : {}) },
    body: payload ? JSON.stringify(payload) : null,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Waits until the change feed holds an event that satisfies `match`. */
async function feedHas(base: string, match: (event: { type: string; data: any }) => boolean) {
  const found = await eventually(async () => {
    const page = await call(base, 'GET', '/changes?after=0&limit=1000');
    return page.items.some((i: { event: { type: string; data: any } }) => match(i.event)) || undefined;
  }, 30_000);
  if (!found) throw new Error('the feed never showed the expected event');
}

const publicKinds = [
  'scheduled',
  'changed',
  'rescheduled',
  'cancelled',
  'seats_changed',
  'attendance_recorded',
];
const kindOf = (type: string) => type.replace(/^nl\.citydeals\.registration\.public_meeting\.|\.v\d+$/g, '');

export function meetingFeed(t: Test, services: JourneySystem) {
  const { registration, notification, registrationDb } = services;
  return t.test(
    'meeting changes reach a webhook receiver and the change feed, and name nobody',
    async (t) => {
      /** A real HTTP receiver: records each request as it arrived and answers 204. */
      const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
      const receiver = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(204).end();
        });
      });
      receiver.listen(0, '127.0.0.1');
      await once(receiver, 'listening');
      t.teardown(async () => {
        receiver.closeAllConnections();
        await new Promise<void>((resolve) => receiver.close(() => resolve()));
      });
      const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/citydeals`;

      const endpoint = await call(notification.url, 'POST', '/webhooks/endpoints', {
        url: receiverUrl,
        description: 'Programme website',
        eventTypes: publicKinds.map((k) => `registration.public_meeting.${k}`),
      });

      // A deal as registration's projection holds it (deal-tracking is not part of this journey).
      const dealId = '01936a10-3c4d-7e5f-a061-7b8c9d0e1f20';
      const db = new pg.Client({ connectionString: registrationDb.url });
      await db.connect();
      await db.query(
        `insert into registration.deals (id, name, slug, kind, phase, version, updated_at)
     values ($1, 'Fietsen voor Iedereen', 'fietsen-voor-iedereen', 'city_deal', 'building', 1, now())`,
        [dealId],
      );
      await db.end();

      const soon = Date.now() + 30 * 86_400_000;
      const iso = (ms: number) => new Date(ms).toISOString();
      const meeting = await call(registration.url, 'POST', '/admin/meetings', {
        title: 'Community of Practice City Deals, feedtest',
        slug: `cop-feed-${Date.now().toString(36)}`,
        startsAt: iso(soon),
        endsAt: iso(soon + 4 * 3_600_000),
        venue: { name: 'Hangar op het voormalige PTT-terrein', address: 'Voormalig PTT-terrein, Den Haag' },
        capacity: 2,
        status: 'published',
      });

      const people = [
        {
          name: 'Wilhelmina Feedjourney',
          email: 'w.feedjourney@example.org',
          organisation: 'Gemeente Zwolle-Feed',
        },
        {
          name: 'Kees van Feedjourney',
          email: 'kees.feedjourney@example.org',
          organisation: 'Ministerie van Feed',
        },
        {
          name: 'Fatima Feedjourney',
          email: 'fatima.feedjourney@example.org',
          organisation: 'Hogeschool Feedstad',
        },
      ];
      const personal: string[] = people.flatMap((p) => [p.name, p.email, p.organisation]);
      await feedHas(
        registration.url,
        (e) => e.data.meetingId === meeting.id && kindOf(e.type) === 'scheduled',
      );
      const registrations = [];
      for (const [i, p] of people.entries()) {
        const answer = await call(registration.url, 'POST', `/meetings/${meeting.id}/registrations`, {
          ...p,
          role: 'projectleider',
          dealId: i === 0 ? dealId : null,
          dietaryNeeds: `feedjourney dieet ${i}`,
        });
        personal.push(answer.registrationId, answer.manageUrl, `feedjourney dieet ${i}`);
        registrations.push(answer);
      }
      // Each step waits for its event: the announcer sums up what changed between two of its rounds.
      await feedHas(
        registration.url,
        (e) => e.data.meetingId === meeting.id && e.data.seats.availability === 'full',
      );
      await call(registration.url, 'PATCH', `/admin/meetings/${meeting.id}`, {
        title: 'Community of Practice City Deals, feedtest (nieuwe titel)',
      });
      await feedHas(registration.url, (e) => e.data.meetingId === meeting.id && kindOf(e.type) === 'changed');
      await call(
        registration.url,
        'POST',
        `/admin/registrations/${registrations[0].registrationId}/check-in`,
      );
      // Moved into the past: it has taken place, so its attendance is news.
      const past = Date.now() - 6 * 3_600_000;
      await call(registration.url, 'POST', `/admin/meetings/${meeting.id}/reschedule`, {
        startsAt: iso(past),
        endsAt: iso(past + 3_600_000),
      });
      const other = await call(registration.url, 'POST', '/admin/meetings', {
        title: 'Extra bijeenkomst feedtest',
        slug: `cop-feed-extra-${Date.now().toString(36)}`,
        startsAt: iso(soon),
        endsAt: iso(soon + 3_600_000),
        venue: { name: 'Stadhuis', address: 'Spui 70, Den Haag' },
        capacity: 50,
        status: 'published',
      });
      await feedHas(registration.url, (e) => e.data.meetingId === other.id);
      await call(registration.url, 'POST', `/admin/meetings/${other.id}/cancel`, {
        reason: 'Wilhelmina Feedjourney kan niet',
      });

      // The system serves other journeys too: the feed and the webhooks of this journey's two meetings.
      const ours = (data: { meetingId?: string }) =>
        data.meetingId === meeting.id || data.meetingId === other.id;
      // Until the feed has every kind and the receiver has caught up with it.
      const feed = await eventually(async () => {
        const page = await call(registration.url, 'GET', '/changes?after=0&limit=1000');
        const mine = page.items.filter((i: any) => ours(i.event.data));
        const kinds = new Set(mine.map((i: any) => kindOf(i.event.type)));
        const delivered = received.filter((r) => ours(JSON.parse(r.body).data));
        const complete = publicKinds.every((k) => kinds.has(k)) && delivered.length >= mine.length;
        return complete ? mine : undefined;
      }, 30_000);
      t.ok(feed, 'the feed has every kind of public meeting event');
      const items: { position: number; event: { id: string; type: string; data: any } }[] = feed;
      t.same(
        items.map((i) => i.position),
        [...items.map((i) => i.position)].sort((a, b) => a - b),
        'in feed order',
      );

      const bodies = received
        .map((r) => {
          // Throws unless signed with this endpoint's secret over exactly these bytes, recently.
          const verified = new Webhook(endpoint.secret).verify(r.body, r.headers as Record<string, string>);
          return verified as { id: string; type: string; data: any };
        })
        .filter((b) => ours(b.data));
      t.equal(bodies.length, items.length, 'one webhook per feed event');
      t.same(
        bodies.map((b) => b.id).sort(),
        items.map((i) => i.event.id).sort(),
        'the webhooks and the feed carry the same events',
      );
      for (const body of bodies) {
        t.same(
          body,
          items.find((i) => i.event.id === body.id)!.event,
          `${kindOf(body.type)}: the same in both`,
        );
      }

      const ofMeeting = items.filter((i) => i.event.data.meetingId === meeting.id).map((i) => i.event);
      const attendance = ofMeeting.find((e) => kindOf(e.type) === 'attendance_recorded')!;
      t.match(attendance.data.attendance, {
        registered: 2,
        attended: 1,
        withoutDeal: { registered: 1, attended: 0 },
        deals: [{ dealId, dealName: 'Fietsen voor Iedereen', registered: 1, attended: 1 }],
      });
      t.ok(
        ofMeeting.some((e) => kindOf(e.type) === 'seats_changed' && e.data.seats.availability === 'full'),
        'the meeting filling up was announced',
      );
      t.equal(
        kindOf(items.filter((i) => i.event.data.meetingId === other.id).at(-1)!.event.type),
        'cancelled',
      );

      // Every event has some 25 fields (seats and attendance nested): the walk reaches them all.
      t.ok(countFields(items) >= items.length * 20, 'the walk covers every field of the feed');
      const deliveries = received.map((r) => ({ headers: r.headers, body: JSON.parse(r.body) }));
      t.ok(countFields(deliveries) >= deliveries.length * 20, 'and of every webhook, headers included');
      t.same(findPersonalData(deliveries, personal), [], 'no header or field of any webhook names anyone');
      t.same(findPersonalData(items, personal), [], 'no field of the feed names anyone');
    },
  );
}
