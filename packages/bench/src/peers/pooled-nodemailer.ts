import nodemailer from 'nodemailer';
import { type RenderedMail, toNodemailerMessage } from './reminder-mail.ts';

/**
 * The baseline a team would write without the system: the rendered mails handed at once to one pooled
 * nodemailer transport. Returns the moment it started (Date.now()), to compare with the sink's 250s.
 */
export async function sendWithPooledNodemailer(input: {
  mails: readonly RenderedMail[];
  port: number;
  connections: number;
  kind: string;
}): Promise<number> {
  const transporter = nodemailer.createTransport({
    pool: true,
    host: '127.0.0.1',
    port: input.port,
    secure: false,
    maxConnections: input.connections,
    maxMessages: Number.POSITIVE_INFINITY,
  });
  const started = Date.now();
  try {
    await Promise.all(input.mails.map((m) => transporter.sendMail(toNodemailerMessage(m, input.kind))));
  } finally {
    transporter.close();
  }
  return started;
}
