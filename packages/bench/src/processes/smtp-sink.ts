// The local SMTP server every mail row sends to, in its own process so that neither the service nor the raw
// nodemailer client shares its event loop. It accepts everything and records, per mail, the Message-ID, the
// recipient, the X-CityDeals-Kind header and the moment it answered 250 (Date.now(), comparable across
// processes on one machine). An HTTP control port serves the records: GET /mails, POST /reset.
// argv: smtpPort controlPort; prints "ready" once both listen.
import http from 'node:http';
import { SMTPServer } from 'smtp-server';

interface AcceptedMail {
  to: string;
  messageId: string;
  kind: string;
  at: number;
}

const [smtpPort, controlPort] = process.argv.slice(2).map(Number);
let mails: AcceptedMail[] = [];

/** First value of a header in the raw header block, unfolded. */
function header(block: string, name: string): string {
  const match = new RegExp(`^${name}:[ \\t]*((?:.*)(?:\\r?\\n[ \\t].*)*)`, 'im').exec(block);
  return match?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim() ?? '';
}

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  logger: false,
  size: 10 * 1024 * 1024,
  // The benchmark opens many connections at once; the default of 30 rejects none of them but be explicit.
  maxClients: 1000,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const end = raw.search(/\r?\n\r?\n/);
      const block = end === -1 ? raw : raw.slice(0, end);
      mails.push({
        to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()).join(','),
        messageId: header(block, 'Message-ID'),
        kind: header(block, 'X-CityDeals-Kind'),
        at: Date.now(),
      });
      callback();
    });
  },
});

const control = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/reset') {
    mails = [];
    res.writeHead(204).end();
    return;
  }
  if (req.url?.startsWith('/count')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: mails.length }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(mails));
});

await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
await new Promise<void>((resolve) => control.listen(controlPort, '127.0.0.1', resolve));
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  control.close();
  smtp.close(() => process.exit(0));
});
