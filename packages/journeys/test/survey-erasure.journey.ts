/**
 * Issue 21's must-show: the feedback survey's answers are erased with the person, against the real servers.
 * Registration and notification run as processes on Postgres and NATS with a real SMTP server: an attendee
 * is checked in, the survey mail arrives, they answer with their name through the link in the parsed mail,
 * another answers anonymously; after the first person's erasure their answer is gone from the results and
 * from every table of registration's schema, their survey mail is blanked in notification, and the
 * anonymous answer stays.
 */
import { adminHeaders, eventually } from '@citydeals/testkit';
import pg from 'pg';
import type { Test } from 'tap';
import type { JourneySystem, Mail } from './journey-system.ts';

function surveyTokenOf(mail: Mail): string {
  const link = /http:\/\/registration\.test\/evaluatie\/([A-Za-z0-9_-]{32})/.exec(mail.parsed.text ?? '');
  if (!link) throw new Error(`no survey link in: ${mail.parsed.text}`);
  if (!String(mail.parsed.html).includes(link[0])) throw new Error('the HTML part has another link');
  return link[1]!;
}

/** Every text column of every table in a database, searched for a string (the way an auditor would). */
async function tablesHolding(url: string, needle: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const columns = await client.query<{ table_schema: string; table_name: string; column_name: string }>(
      `select table_schema, table_name, column_name from information_schema.columns
       where table_schema not in ('pg_catalog', 'information_schema')
         and data_type in ('text', 'character varying', 'jsonb', 'json')`,
    );
    const found: string[] = [];
    for (const c of columns.rows) {
      const table = `"${c.table_schema}"."${c.table_name}"`;
      const hit = await client.query(
        `select 1 from ${table} where "${c.column_name}"::text like $1 limit 1`,
        [`%${needle}%`],
      );
      if (hit.rowCount) found.push(`${c.table_schema}.${c.table_name}.${c.column_name}`);
    }
    return found;
  } finally {
    await client.end();
  }
}

export function surveyErasure(t: Test, services: JourneySystem) {
  const { namespace, mailTo } = services;
  const reg = (method: 'GET' | 'POST', path: string, payload?: object, admin = false) =>
    services.call(services.registration.url, method, path, payload, admin ? adminHeaders : {});

  return t.test("the survey's answers are erased with the person", async (t) => {
    // Registration closes at the start and the survey opens then: the meeting is moved to a minute ago once
    // its people are registered and checked in.
    const startsAt = new Date(Date.now() + 86_400_000);
    const created = await reg(
      'POST',
      '/admin/meetings',
      {
        title: 'Community of Practice City Deals',
        slug: `cop-survey-${namespace.replaceAll('_', '-')}`,
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString(),
        venue: { name: 'Hangar', address: 'PTT-terrein, Den Haag' },
        language: 'nl',
        capacity: 10,
        status: 'published',
      },
      true,
    );
    t.equal(created.status, 201, created.body);
    const meeting = created.json() as { id: string };
    const people = [
      { name: 'Hanna Visser', email: 'hanna@example.org', language: 'en' },
      { name: 'Ivo de Groot', email: 'ivo@example.org', language: 'nl' },
    ];
    for (const p of people) {
      const res = await reg('POST', `/meetings/${meeting.id}/registrations`, {
        ...p,
        organisation: 'Gemeente Voorbeeld',
        role: 'dealmaker',
      });
      t.equal(res.status, 201, res.body);
      const checkIn = await reg(
        'POST',
        `/admin/registrations/${res.json().registrationId}/check-in`,
        {},
        true,
      );
      t.equal(checkIn.status, 200, checkIn.body);
    }
    const started = new Date(Date.now() - 60_000);
    const moved = await reg(
      'POST',
      `/admin/meetings/${meeting.id}/reschedule`,
      { startsAt: started.toISOString(), endsAt: new Date(started.getTime() + 3_600_000).toISOString() },
      true,
    );
    t.equal(moved.status, 200, moved.body);
    const sent = await reg('POST', `/admin/meetings/${meeting.id}/survey`, {}, true);
    t.same(sent.json(), { invited: 2, alreadySent: false }, sent.body);

    const hannaMail = await mailTo('hanna@example.org', 'feedback_survey');
    const ivoMail = await mailTo('ivo@example.org', 'feedback_survey');
    t.match(hannaMail.parsed.subject, /^How was Community of Practice/, 'Hanna chose English');
    t.match(ivoMail.parsed.subject, /^Hoe was Community of Practice/);

    const hannaText = 'Hanna vond de ontwerpsessie het nuttigst';
    const named = await reg('POST', `/surveys/${surveyTokenOf(hannaMail)}/answers`, {
      rating: 5,
      mostUseful: hannaText,
      giveName: true,
      language: 'en',
    });
    t.equal(named.status, 201, named.body);
    const anonymous = await reg('POST', `/surveys/${surveyTokenOf(ivoMail)}/answers`, {
      rating: 3,
      suggestions: 'Meer pauzes',
    });
    t.equal(anonymous.status, 201, anonymous.body);
    const before = (await reg('GET', `/admin/meetings/${meeting.id}/survey`, undefined, true)).json();
    t.same(
      before.answers.map((a: { rating: number; name: string | null }) => [a.rating, a.name]),
      [
        [5, 'Hanna Visser'],
        [3, null],
      ],
    );
    t.ok((await tablesHolding(services.registrationDb.url, hannaText)).length > 0, 'her answer is stored');

    const erased = await reg('POST', '/admin/erasures', { email: 'hanna@example.org' }, true);
    t.equal(erased.status, 200, erased.body);

    const after = (await reg('GET', `/admin/meetings/${meeting.id}/survey`, undefined, true)).json();
    t.same(
      after.answers.map((a: { rating: number; name: string | null }) => [a.rating, a.name]),
      [[3, null]],
      'her named answer is gone; the anonymous answer stays',
    );
    t.same(
      await tablesHolding(services.registrationDb.url, hannaText),
      [],
      'no table of registration holds it',
    );
    t.same(await tablesHolding(services.registrationDb.url, 'Hanna Visser'), [], 'nor her name');
    t.equal(
      (await reg('POST', `/surveys/${surveyTokenOf(hannaMail)}/answers`, { rating: 1 })).status,
      404,
      'her survey link is gone too',
    );
    // Notification blanks the mails of an erased registration, the survey mail among them.
    const blanked = await eventually(
      async () => (await tablesHolding(services.notificationDb.url, surveyTokenOf(hannaMail))).length === 0,
    );
    t.ok(blanked, 'the survey mail with her link is blanked in notification');
    t.same(await tablesHolding(services.notificationDb.url, 'hanna@example.org'), [], 'and her address');
  });
}
