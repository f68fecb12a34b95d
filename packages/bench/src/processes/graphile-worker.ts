// The graphile-worker peer of the reminders row, in its own process like the notification service it stands
// beside: graphile-worker 0.17 with a `send_reminder` task that hands each job's rendered mail to a pooled
// nodemailer transport, i.e. what a team would write instead of the service's dispatcher and sender.
// Worker settings are the library's defaults apart from concurrency and the pool size its docs recommend for it
// (max(10, concurrency + 2)); no local queue or batched completion, which trade re-runs after a crash for speed.
// argv: connectionString smtpPort concurrency smtpConnections; prints "ready" once the worker is listening
// for jobs (its schema migrated).
import { Logger, run } from 'graphile-worker';
import nodemailer from 'nodemailer';
import { type RenderedMail, toNodemailerMessage } from '../peers/reminder-mail.ts';

const [connectionString, smtpPort, concurrency, smtpConnections] = process.argv.slice(2);
if (!connectionString || !smtpPort || !concurrency || !smtpConnections) {
  throw new Error('usage: graphile-worker.ts connectionString smtpPort concurrency smtpConnections');
}

const transporter = nodemailer.createTransport({
  pool: true,
  host: '127.0.0.1',
  port: Number(smtpPort),
  secure: false,
  maxConnections: Number(smtpConnections),
  maxMessages: Number.POSITIVE_INFINITY,
});

// Info lines per job would cost the worker 10 000 console writes the service does not make; keep problems only.
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning')
    process.stderr.write(`graphile-worker ${level}: ${message}\n`);
});

const runner = await run({
  connectionString,
  concurrency: Number(concurrency),
  maxPoolSize: Math.max(10, Number(concurrency) + 2),
  noHandleSignals: true,
  logger,
  taskList: {
    send_reminder: async (payload) => {
      await transporter.sendMail(toNodemailerMessage(payload as RenderedMail));
    },
  },
});
process.stdout.write('ready\n');

process.on('SIGTERM', () => {
  void runner.stop().finally(() => {
    transporter.close();
    process.exit(0);
  });
});
