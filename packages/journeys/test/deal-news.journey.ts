/**
 * Deal news in the last reminder, end to end: deal-tracking, registration and notification run as processes
 * on the shared Postgres and NATS (one namespace), the deals move through deal-tracking's own HTTP API, so
 * notification reads deal-tracking's events exactly as deal-tracking emits them, and the reminders arrive at
 * a real SMTP server. Meetings start around the changes (deal-tracking dates each change with its own
 * clock), so the window "after the previous meeting started, up to the reminder" has changes on both sides.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { adminHeaders, eventually, findPersonalData, testServers, withAdmin } from '@citydeals/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Test } from 'tap';
import type { JourneySystem } from './journey-system.ts';

/** Notification's settings this journey needs: due reminders are looked for every 50 ms. */
export const dealNewsEnv = { notification: { REMINDER_POLL_MS: '50' } };

async function call(base: string, method: 'GET' | 'POST', path: string, payload?: object) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...adminHeaders, ...(payload ? { 'content-type': 'application/json' } : {}) },
    body: payload ? JSON.stringify(payload) : null,
  });
  const body = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${body}`);
  return JSON.parse(body);
}
/** A moment strictly after every change made so far and before every change made after it. */
async function boundary(): Promise<Date> {
  await sleep(5);
  const at = new Date();
  await sleep(5);
  return at;
}

const lines = (text: string) => text.split('\n').map((l) => l.trim());
/** The deal news section of a text mail, line by line; empty when the mail has none. */
function newsSection(text: string, heading: string, after: string): string[] {
  const all = lines(text);
  const start = all.indexOf(heading);
  if (start < 0) return [];
  const end = all.findIndex((l, i) => i > start && l.startsWith(after));
  return all.slice(start + 1, end).filter((l) => l !== '');
}
/** The same section of the HTML mail: each deal's heading and items, in order. */
function htmlNewsSection(html: string): string[] {
  const section = /<h2[^>]*>[^<]*<\/h2>([\s\S]*?)<p>(Can't|Kun)/.exec(html)?.[1] ?? '';
  return [...section.matchAll(/<(p|li)[^>]*>([\s\S]*?)<\/\1>/g)].map((m) =>
    m[2]!
      .replace(/<[^>]+>/g, '')
      .replace(/&#39;/g, "'")
      .trim(),
  );
}

export function dealNews(t: Test, services: JourneySystem) {
  const { namespace, mails, registration, notificationDb } = services;
  const dealTracking = services.dealTracking!;
  const deals = (method: 'GET' | 'POST', path: string, payload?: object) =>
    call(dealTracking.url, method, path, payload);
  const admin = (path: string, payload: object) => call(registration.url, 'POST', path, payload);

  const query = <R>(sql: string, params: unknown[] = []) =>
    withAdmin(async (c) => (await c.query(sql, params)).rows as R[], notificationDb.url);

  /** A meeting in registration; `startsAt` to the millisecond, so it can fall between two deal changes. */
  async function meeting(slug: string, startsAt: Date, reminderOffsets: string[] = []) {
    const created = await admin('/admin/meetings', {
      title: `CoP ${slug}`,
      slug: `${slug}-${namespace.replaceAll('_', '-')}`,
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 4 * 3_600_000).toISOString(),
      venue: { name: 'Hangar', address: 'PTT-terrein, Den Haag' },
      capacity: 10,
      reminderOffsets,
      status: 'published',
    });
    return created.id as string;
  }

  return t.test(
    'the last reminder carries exactly what moved in the deals since the previous meeting',
    async (t) => {
      // Given: three deals, and what happened to them before the previous meeting.
      const fietsen = await deals('POST', '/deals', { name: 'Fietsen voor Iedereen', kind: 'city_deal' });
      const slimmeStad = await deals('POST', '/deals', { name: 'Slimme Stad', kind: 'city_deal' });
      const energiek = await deals('POST', '/deals', { name: 'Energieke Wijken', kind: 'city_deal' });
      await deals('POST', `/deals/${fietsen.id}/transitions`, { to: 'signed', reason: 'Getekend' });
      await deals('POST', `/deals/${slimmeStad.id}/results`, { title: 'Oud resultaat' });
      await deals('POST', `/deals/${energiek.id}/lessons`, { kind: 'success', text: 'Oude les' });
      await meeting('older', new Date(Date.now() - 200 * 86_400_000));
      const previousStart = await boundary();
      await meeting('previous', previousStart);

      // When: between the previous meeting and the reminder, news and changes of other kinds.
      await deals('POST', `/deals/${fietsen.id}/transitions`, {
        to: 'building',
        reason: 'Coalitie in opbouw',
      });
      await deals('POST', `/deals/${slimmeStad.id}/results`, { title: 'Toolbox overgenomen door DMI' });
      await deals('POST', `/deals/${energiek.id}/partners`, {
        name: 'Woningcorporatie Thuis',
        type: 'civil_society',
        joinedOn: '2026-11-01',
      });
      await deals('POST', `/deals/${slimmeStad.id}/links`, {
        otherDealId: fietsen.id,
        note: 'Data over fietsen',
      });
      // A meeting that was called off after it would have started: the news still runs from the previous one.
      const cancelledStart = await boundary();
      const cancelled = await meeting('cancelled', cancelledStart);
      await admin(`/admin/meetings/${cancelled}/cancel`, { reason: 'Zaal niet beschikbaar' });
      await deals('POST', `/deals/${energiek.id}/lessons`, { kind: 'setback', text: 'Te snel gegaan' });
      await deals('POST', `/deals/${energiek.id}/extensions`, {
        termEndsOn: '2030-01-01',
        reason: 'Meer tijd',
      });

      // The next meeting: two reminders each, planned with the registrations and due in ten and twenty minutes;
      // Anna comes for Slimme Stad, Bram for no deal.
      await eventually(
        async () => (await call(registration.url, 'GET', '/deals')).items.length === 3,
        30_000,
      );
      const next = await meeting('next', new Date(Date.now() + 3_600_000), ['PT50M', 'PT40M']);
      const register = (name: string, language: 'nl' | 'en', dealId: string | null) =>
        call(registration.url, 'POST', `/meetings/${next}/registrations`, {
          name,
          email: `${name.toLowerCase()}@example.org`,
          organisation: 'Gemeente Voorbeeld',
          role: 'projectleider',
          language,
          dealId,
          consents: { photo: false, attendeeList: false },
        });
      const anna = await register('Anna', 'en', slimmeStad.id);
      await register('Bram', 'nl', null);

      const reminders = async (to: string, count: number) => {
        const found = await eventually(() => {
          const mine = mails.filter((m) => m.to === to && m.kind === 'reminder');
          return mine.length >= count ? mine : undefined;
        }, 60_000);
        if (!found) throw new Error(`fewer than ${count} reminders to ${to}: ${mails.map((m) => m.kind)}`);
        return found;
      };
      // Each falls due now, in their order, instead of minutes from now.
      const bringForward = async (offset: string) => {
        const pending = [next, offset];
        const where = `meeting_id = $1 and reminder_offset = $2 and status = 'pending'`;
        await eventually(
          async () =>
            (await query(`select 1 from notification.reminder where ${where}`, pending)).length === 2,
        );
        return (
          (
            await query(
              `update notification.reminder set due_at = now() where ${where} returning id`,
              pending,
            )
          ).length === 2
        );
      };
      t.ok(await bringForward('PT50M'), 'the first reminders were planned, and are due now');
      await reminders('anna@example.org', 1);
      await reminders('bram@example.org', 1);
      t.ok(await bringForward('PT40M'), 'and then the last');
      const [firstToAnna, lastToAnna] = await reminders('anna@example.org', 2);
      const [firstToBram, lastToBram] = await reminders('bram@example.org', 2);

      // Then: the first reminder has no news; the last has exactly the three changes since the previous meeting.
      const enHeading = 'What moved in the deals since the last meeting';
      const nlHeading = 'Wat er sinds de vorige bijeenkomst in de deals is gebeurd';
      t.notOk(firstToAnna?.parsed.text?.includes(enHeading), 'no news in the first reminder');
      t.notOk(String(firstToAnna?.parsed.html).includes(enHeading), 'nor in its HTML');
      t.notOk(firstToBram?.parsed.text?.includes(nlHeading), 'nor in Bram’s');
      t.same(
        newsSection(lastToAnna?.parsed.text ?? '', enHeading, "Can't make it"),
        [
          'Slimme Stad (your deal)',
          '- New result: Toolbox overgenomen door DMI',
          'Energieke Wijken',
          '- Lesson shared (setback): Te snel gegaan',
          'Fietsen voor Iedereen',
          '- Moved from signed to building the coalition',
        ],
        'the last reminder in English: her own deal first, then by name; nothing before the previous meeting',
      );
      t.same(htmlNewsSection(String(lastToAnna?.parsed.html)), [
        'Slimme Stad (your deal)',
        'New result: Toolbox overgenomen door DMI',
        'Energieke Wijken',
        'Lesson shared (setback): Te snel gegaan',
        'Fietsen voor Iedereen',
        'Moved from signed to building the coalition',
      ]);
      t.same(
        newsSection(lastToBram?.parsed.text ?? '', nlHeading, 'Kun je toch'),
        [
          'Energieke Wijken',
          '- Les gedeeld (tegenvaller): Te snel gegaan',
          'Fietsen voor Iedereen',
          '- Van ondertekend naar coalitie opbouwen',
          'Slimme Stad',
          '- Nieuw resultaat: Toolbox overgenomen door DMI',
        ],
        'and in Dutch, by name for someone without a deal',
      );
      t.same(htmlNewsSection(String(lastToBram?.parsed.html)), [
        'Energieke Wijken',
        'Les gedeeld (tegenvaller): Te snel gegaan',
        'Fietsen voor Iedereen',
        'Van ondertekend naar coalitie opbouwen',
        'Slimme Stad',
        'Nieuw resultaat: Toolbox overgenomen door DMI',
      ]);

      t.test('a redelivered deal-tracking event adds nothing, also once the inbox forgot it', async (t) => {
        const news = () =>
          query<Record<string, unknown>>(
            'select n.*, d.name, d.version as name_version from notification.deal_news n join notification.news_deal d using (deal_id) order by 1',
          );
        const before = await news();
        t.equal(before.length, 6, 'six news rows: three before the previous meeting, three after');
        // The phase change as deal-tracking published it, published again under other message ids.
        const nc = await connect({ servers: testServers.natsUrl, name: 'journeys-deal-news' });
        t.teardown(() => nc.close());
        const stream = `${namespace}_DEAL_TRACKING`;
        const jsm = await jetstreamManager(nc);
        const info = await jsm.streams.info(stream);
        let copied: { subject: string; data: Uint8Array; json<T>(): T } | undefined;
        for (let seq = info.state.first_seq; seq <= info.state.last_seq && !copied; seq++) {
          const msg = await jsm.streams.getMessage(stream, { seq });
          if (msg?.subject.endsWith('deal_tracking.deal.phase_changed')) copied = msg;
        }
        if (!copied) throw new Error('no phase change on the stream');
        const eventId = copied.json<{ id: string }>().id;
        const durable = `${namespace}_notification-deal-tracking-events`;
        const redeliver = async (msgID: string) => {
          const ack = await jetstream(nc).publish(copied.subject, copied.data, { msgID });
          return eventually(async () => {
            const consumer = await jsm.consumers.info(stream, durable);
            return consumer.delivered.stream_seq >= ack.seq && consumer.num_ack_pending === 0;
          }, 30_000);
        };
        const inboxed = async () =>
          (await query('select 1 from notification.inbox where event_id = $1', [eventId])).length;

        t.ok(await redeliver(`again-${namespace}`), 'a copy was delivered and acknowledged');
        t.same(await news(), before, 'the inbox dropped it: the news is as it was');
        // Retention removes inbox rows after days while the stream keeps the event for weeks: a replay then
        // reaches the handler itself.
        await query('delete from notification.inbox where event_id = $1', [eventId]);
        t.ok(await redeliver(`again-2-${namespace}`), 'a copy after the inbox forgot the event');
        t.equal(await inboxed(), 1, 'the handler ran again');
        t.same(await news(), before, 'and the news is still as it was');
      });

      t.test('erasing an attendee leaves the news as it is, and the news names no one', async (t) => {
        const news = () =>
          query<Record<string, unknown>>(
            'select n.*, d.name from notification.deal_news n join notification.news_deal d using (deal_id) order by 1',
          );
        const before = await news();
        await admin('/admin/erasures', { email: 'anna@example.org' });
        const erased = await eventually(async () => {
          const [row] = await query<{ erased: boolean; deal_id: string | null }>(
            'select erased, deal_id from notification.recipient where registration_id = $1',
            [anna.registrationId],
          );
          return row?.erased ? row : undefined;
        }, 30_000);
        t.equal(erased?.deal_id, null, 'the erased recipient no longer says which deal they came for');
        t.same(await news(), before, 'the deal news is untouched');
        t.same(findPersonalData(before, ['Anna', 'anna@example.org', 'Bram', anna.registrationId]), []);
      });
    },
  );
}
