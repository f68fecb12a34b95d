/**
 * The door QR code: a confirmation (and a promotion) carries it as an inline PNG the HTML shows by cid,
 * and it reads — decoded from the image as a phone camera would — as the console's door address for that
 * registration. Mails that give no seat carry none. Also: a check-in undone at the door (as registration
 * records it) moves the read model back without a mail and without a dead letter.
 */
import { namespace } from '@citydeals/messaging';
import { shutdown } from '@citydeals/service-kit';
import { eventually, startTestService } from '@citydeals/testkit';
// A CommonJS module: its default import is module.exports, whose `default` is the decoder.
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import t from 'tap';
import { loadServiceConfig } from '../../src/config.ts';
import { startService } from '../../src/service.ts';
import {
  attendeeSnapshot,
  eventFeed,
  meetingSnapshot,
  type ReceivedMail,
  startSmtpServer,
} from './email.fixture.ts';

const CONSOLE_URL = 'https://console.cop.example.org';
const smtp = await startSmtpServer();
const ctx = await startTestService((env) => startService(loadServiceConfig(env)), shutdown, {
  SMTP_URL: smtp.url,
  MAIL_POLL_MS: '50',
  PUBLIC_BASE_URL: 'http://notification.test',
  CONSOLE_URL,
});
t.teardown(async () => {
  await ctx.close();
  await smtp.close();
});
const { runtime } = ctx.service;
const feed = eventFeed(runtime.js, namespace(ctx.namespace));

/** What a camera makes of the mail's inline image. */
function decodeQr(mail: ReceivedMail) {
  const image = mail.parsed.attachments.find((a) => a.contentType === 'image/png');
  if (!image) return undefined;
  const png = PNG.sync.read(image.content);
  const code = jsQR.default(new Uint8ClampedArray(png.data), png.width, png.height);
  return { cid: image.cid, related: image.related, text: code?.data };
}

t.test('confirmations carry a QR code that opens the door page for the registration', async (t) => {
  const meeting = meetingSnapshot();
  await feed.scheduled(meeting);
  const sanne = attendeeSnapshot(meeting.meetingId, { name: 'Sanne de Vries' });
  const daan = attendeeSnapshot(meeting.meetingId, {
    name: 'Daan Bakker',
    status: 'waitlisted',
    position: 1,
  });
  await feed.registered(sanne);
  await feed.waitlisted(daan);
  t.ok(await eventually(() => smtp.to(sanne.email).length === 1 && smtp.to(daan.email).length === 1));
  const [confirmed] = smtp.to(sanne.email);
  const qr = decodeQr(confirmed!);
  t.same(
    qr,
    { cid: 'door-qr@citydeals', related: true, text: `${CONSOLE_URL}/door/scan/${sanne.registrationId}` },
    'an inline image that reads as the door address of this registration',
  );
  const png = confirmed!.parsed.attachments.find((a) => a.contentType === 'image/png')!.content;
  // The reader resolves the HTML's cid: reference to the image part it names, as mail clients do.
  t.ok(
    String(confirmed!.parsed.html).includes(`<img src="data:image/png;base64,${png.toString('base64')}"`),
    'the HTML shows that image',
  );
  t.match(confirmed!.raw, /src=(3D)?"cid:door-qr@citydeals"/, 'by its Content-ID');
  t.match(confirmed!.parsed.text, /QR-code/, 'the text points to it');
  t.equal(decodeQr(smtp.to(daan.email)[0]!), undefined, 'a waitlist place has nothing to show at the door');

  await feed.promoted({ ...daan, version: 2, status: 'confirmed', position: null }, 1);
  t.ok(await eventually(() => smtp.to(daan.email).length === 2));
  t.equal(
    decodeQr(smtp.to(daan.email)[1]!)?.text,
    `${CONSOLE_URL}/door/scan/${daan.registrationId}`,
    'a promotion gives a seat, and so the code',
  );
});

t.test('a substitute gets the confirmation, with their own link and the door QR code', async (t) => {
  const meeting = meetingSnapshot();
  await feed.scheduled(meeting);
  const bram = attendeeSnapshot(meeting.meetingId, { name: 'Bram Jansen' });
  await feed.registered(bram);
  t.ok(await eventually(() => smtp.to(bram.email).length === 1));
  const femke = attendeeSnapshot(meeting.meetingId, { name: 'Femke Jansen' });
  await feed.substituted({ ...femke, registrationId: bram.registrationId, version: 2 });
  t.ok(await eventually(() => smtp.to(femke.email).length === 1), 'the new person is told');
  const [mail] = smtp.to(femke.email);
  t.equal(mail!.kind, 'registration_confirmed');
  t.match(mail!.parsed.text, /Beste Femke Jansen/);
  t.ok(mail!.parsed.text!.includes(femke.manageUrl), 'with their own manage link');
  t.ok(mail!.ics(), 'and the calendar invitation');
  t.equal(decodeQr(mail!)?.text, `${CONSOLE_URL}/door/scan/${bram.registrationId}`, 'the seat’s door code');
  t.equal(smtp.to(bram.email).length, 1, 'the previous person gets nothing more');
});

t.test('a check-in undone at the door: read model back to confirmed, no mail, no dead letter', async (t) => {
  const meeting = meetingSnapshot();
  await feed.scheduled(meeting);
  const iris = attendeeSnapshot(meeting.meetingId, { name: 'Iris de Boer' });
  await feed.registered(iris);
  t.ok(await eventually(() => smtp.to(iris.email).length === 1));
  const at = new Date().toISOString();
  await feed.checkedIn({ ...iris, version: 2 }, at);
  await feed.checkInUndone({ ...iris, version: 3 }, at);
  const status = () =>
    runtime.db
      .selectFrom('recipient')
      .select(['status', 'version'])
      .where('registration_id', '=', iris.registrationId)
      .executeTakeFirst();
  t.ok(await eventually(async () => (await status())?.version === 3), 'the undo is applied');
  t.same(await status(), { status: 'confirmed', version: 3 });
  const dead = await runtime.db.selectFrom('dead_letter').selectAll().execute();
  t.same(dead, [], 'nothing dead-lettered');
  t.equal(smtp.to(iris.email).length, 1, 'no mail about it');
});
