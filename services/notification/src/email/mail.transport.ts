import { mkdir, rename, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { randomBytesFromPool } from '@citydeals/service-kit';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { doorQrImage, type InlineImage } from './door-qr.ts';
import type { EmailRow } from './email.repository.ts';
import { canFormatMime, formatMime, type MimeMessage } from './mime.format.ts';

/** The sender as configured: the From header, and its parts. */
export interface MailFrom {
  name: string;
  address: string;
  header: string;
}

export interface MailTransport {
  readonly kind: 'smtp' | 'file';
  /**
   * Resolves when the server accepted the mail, with its answer (e.g. `250 OK`) when there is one; rejects
   * with nodemailer's error (with `responseCode`).
   */
  send(mail: EmailRow, from: MailFrom): Promise<string | undefined>;
  /** Resolves once the server answers a new connection's greeting (and login); rejects as `send` would. */
  probe(): Promise<void>;
  close(): void;
}

/** The message as it goes on the wire; the Message-ID is the stored one, so a resend is recognisable. */
export function toMessage(
  mail: EmailRow,
  from: string,
  images: readonly InlineImage[] = [],
): SendMailOptions {
  const headers: Record<string, string> = {};
  if (mail.unsubscribe_url) {
    headers['List-Unsubscribe'] = `<${mail.unsubscribe_url}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return {
    from,
    to: mail.recipient ?? undefined,
    subject: mail.subject,
    text: mail.text_body ?? undefined,
    html: mail.html_body ?? undefined,
    messageId: mail.message_id,
    date: new Date(mail.created_at),
    headers: { ...headers, 'X-CityDeals-Kind': mail.kind },
    ...(images.length > 0
      ? {
          attachments: images.map((i) => ({
            cid: i.cid,
            filename: i.filename,
            content: i.content,
            contentType: i.contentType,
            contentDisposition: 'inline' as const,
          })),
        }
      : {}),
    ...(mail.ics
      ? {
          icalEvent: {
            method: mail.ics_method ?? 'REQUEST',
            filename: 'invite.ics',
            content: mail.ics,
          },
        }
      : {}),
  };
}

/** The parts of the MIME message; the Message-ID is the stored one, so a resend is recognisable. */
export function toMimeMessage(
  mail: EmailRow,
  from: MailFrom,
  images: readonly InlineImage[] = [],
): MimeMessage {
  if (!mail.recipient) throw new Error(`mail ${mail.id} has no recipient (erased)`);
  const headers: [string, string][] = [['X-CityDeals-Kind', mail.kind]];
  if (mail.unsubscribe_url) {
    headers.push(['List-Unsubscribe', `<${mail.unsubscribe_url}>`]);
    headers.push(['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click']);
  }
  return {
    from: { name: from.name, address: from.address },
    to: mail.recipient,
    subject: mail.subject,
    messageId: mail.message_id,
    date: new Date(mail.created_at),
    headers,
    text: mail.text_body ?? '',
    html: mail.html_body ?? '',
    calendar: mail.ics
      ? { method: mail.ics_method ?? 'REQUEST', content: mail.ics, filename: 'invite.ics' }
      : null,
    images,
  };
}

/**
 * The message as one buffer, with its envelope. Handed to nodemailer as MIME parts instead, each part is
 * composed through a stream pipeline and written to the socket on its own (many writes per mail);
 * on these machines that was most of the cost of sending. nodemailer composes the rare message this
 * formatter does not handle (addresses outside ASCII).
 */
export async function renderMessage(mail: EmailRow, from: MailFrom, consoleUrl: string | null = null) {
  const qr = await doorQrImage(mail, consoleUrl);
  const images = qr ? [qr] : [];
  const message = toMimeMessage(mail, from, images);
  if (canFormatMime(message)) {
    return {
      raw: formatMime(message, randomBytesFromPool(12).toString('hex')),
      envelope: { from: from.address, to: [message.to] },
    };
  }
  const node = new MailComposer(toMessage(mail, from.header, images)).compile();
  return { raw: await node.build(), envelope: node.getEnvelope() };
}

export function createMailTransport(options: {
  smtpUrl: string | undefined;
  mailDir: string;
  maxConnections: number;
  /** The console's address (no trailing slash): confirmations get their door QR code; null: none. */
  consoleUrl?: string | null;
}): MailTransport {
  const consoleUrl = options.consoleUrl ?? null;
  if (options.smtpUrl) {
    const url = new URL(options.smtpUrl);
    const port = Number(url.port || (url.protocol === 'smtps:' ? 465 : 587));
    const transporter = nodemailer.createTransport({
      pool: true,
      host: url.hostname,
      port,
      secure: url.protocol === 'smtps:',
      ...(url.username
        ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
        : {}),
      maxConnections: options.maxConnections,
      maxMessages: Number.POSITIVE_INFINITY,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 60_000,
      // The TCP connection is opened here so its writes can be batched; greeting, TLS and the rest stay
      // nodemailer's.
      getSocket: (
        _options: unknown,
        callback: (err: Error | null, socketOptions: { connection: Socket } | false) => void,
      ) => {
        connectBatchingWrites(url.hostname, port, 15_000).then(
          (connection) => callback(null, { connection }),
          (error: Error) => callback(error, false),
        );
      },
    });
    // Kept cast: nodemailer types the pool's send for its MailMessage, not the shape it reads (sendPrepared).
    const pool = transporter.transporter as unknown as PreparedMailPool;
    return {
      kind: 'smtp',
      async send(mail, from) {
        const { raw, envelope } = await renderMessage(mail, from, consoleUrl);
        return sendPrepared(pool, raw, envelope, mail.message_id);
      },
      probe: async () => {
        await transporter.verify();
      },
      close: () => transporter.close(),
    };
  }
  let dirReady: Promise<unknown> | undefined;
  return {
    kind: 'file',
    async send(mail, from) {
      dirReady ??= mkdir(options.mailDir, { recursive: true });
      await dirReady;
      const { raw } = await renderMessage(mail, from, consoleUrl);
      // Named by mail id and written atomically: a resend after a crash replaces the file, never doubles it.
      const stamp = new Date(mail.created_at).toISOString().replace(/[:.]/g, '-');
      const file = path.join(options.mailDir, `${stamp}-${mail.kind}-${mail.id}.eml`);
      await writeFile(`${file}.tmp`, raw);
      await rename(`${file}.tmp`, file);
      return undefined;
    },
    probe: async () => {},
    close: () => {},
  };
}

/**
 * A socket whose writes made in one step leave in one system call. On the server's 354 nodemailer writes
 * the message and then, from the dot-stuffing stream's end, the end-of-data dot: two writes, each a system
 * call that on a local server also does the receiving side's TCP work. Corked from a step's first write
 * until its ticks and microtasks have run, the two go out together. (The envelope, MAIL FROM to DATA,
 * nodemailer already writes in one go when the server allows PIPELINING.) Under STARTTLS the TLS layer
 * writes past this socket and nothing changes.
 */
function connectBatchingWrites(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const socket = new Socket();
  return new Promise((resolve, reject) => {
    // Failing to connect is an unreachable server, as nodemailer reports it (code ECONNECTION).
    const fail = (cause: Error) => {
      socket.destroy();
      reject(
        Object.assign(new Error(`Connection to ${host}:${port} failed: ${cause.message}`, { cause }), {
          code: 'ECONNECTION',
        }),
      );
    };
    socket.once('error', fail);
    socket.setTimeout(timeoutMs, () => fail(new Error('connection timeout')));
    socket.connect({ host, port }, () => {
      socket.off('error', fail);
      socket.setTimeout(0);
      // Replaced only now: connect() puts the prototype's write back.
      batchWrites(socket);
      resolve(socket);
    });
  });
}

/** Corks the socket at the first write of a step and uncorks it once the step's ticks and microtasks ran. */
function batchWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = (...args: unknown[]): boolean => {
    if (!corked) {
      corked = true;
      socket.cork();
      queueMicrotask(uncork);
    }
    return Reflect.apply(write, socket, args);
  };
}

/** MAIL FROM (false: the null sender) and RCPT TO, as nodemailer's composer gives them. */
type MailEnvelope = { from: string | false; to: string[] };

/** What nodemailer's SMTP pool reads of a mail: the finished message, its envelope and its id. */
interface PreparedMail {
  data: Record<string, never>;
  message: {
    getEnvelope(): MailEnvelope;
    messageId(): string;
    getHeader(name: string): string;
    createReadStream(): MessageBody;
  };
}

/**
 * The finished message as the connection reads it: written into its dot-stuffing stream and ended in one
 * step, so the message and the end-of-data dot reach the socket in the same step (a stream of one chunk
 * ends a step later, and takes several objects and promises per mail to do it). `readableDidRead` tells
 * the pool whether the message went out: one that did not may go out over another connection.
 */
class MessageBody {
  readableDidRead = false;
  constructor(private readonly raw: Buffer) {}
  pipe(destination: Writable): Writable {
    this.readableDidRead = true;
    return destination.end(this.raw);
  }
}

interface PreparedMailPool {
  send(mail: PreparedMail, callback: (err: Error | null, info?: { response?: string }) => void): void;
}

/**
 * Hands a finished message straight to nodemailer's SMTP pool (connections, queueing, dot-stuffing, the
 * server's answers and its errors with `responseCode` are all the pool's). `sendMail` would first run it
 * through Mail's plugins, build a MimeNode around the raw bytes, draw a Message-ID it does not use and
 * stream it through a pipeline: a visible share of the notification service's CPU when sending reminders. The
 * pool asks for a fresh stream each time it (re)sends the message over a connection. This shape of a mail
 * is what the pool reads, not a documented API: mail.transport.test.ts sends through it to a real SMTP
 * server, so a nodemailer upgrade that changes it fails there.
 */
function sendPrepared(
  pool: PreparedMailPool,
  raw: Buffer,
  envelope: MailEnvelope,
  messageId: string,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    pool.send(
      {
        data: {},
        message: {
          getEnvelope: () => envelope,
          messageId: () => messageId,
          getHeader: (name) => (name.toLowerCase() === 'message-id' ? messageId : ''),
          createReadStream: () => new MessageBody(raw),
        },
      },
      (err, info) => (err ? reject(err) : resolve(info?.response)),
    );
  });
}
