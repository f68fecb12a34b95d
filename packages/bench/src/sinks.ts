import { freePort } from '@citydeals/testkit';
import { repoRoot, spawnTs } from './processes.ts';

export interface AcceptedMail {
  to: string;
  messageId: string;
  kind: string;
  /** Date.now() in the sink when it answered 250. */
  at: number;
}

export interface SmtpSink {
  smtpUrl: string;
  port: number;
  mails(): Promise<AcceptedMail[]>;
  count(): Promise<number>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The local SMTP server of the mail rows (processes/smtp-sink.ts), in its own process; on `port` to bring
 * back a stopped one where its clients look for it.
 */
export async function startSmtpSink(port?: number): Promise<SmtpSink> {
  const [smtpPort, controlPort] = [port ?? (await freePort()), await freePort()];
  const spawned = await spawnTs(
    `${repoRoot}packages/bench/src/processes/smtp-sink.ts`,
    [String(smtpPort), String(controlPort)],
    {},
    (out) => out.includes('ready'),
  );
  const control = `http://127.0.0.1:${controlPort}`;
  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    port: smtpPort,
    mails: async () => (await (await fetch(`${control}/mails`)).json()) as AcceptedMail[],
    count: async () => ((await (await fetch(`${control}/count`)).json()) as { count: number }).count,
    reset: async () => {
      await fetch(`${control}/reset`, { method: 'POST' });
    },
    stop: spawned.stop,
  };
}

export interface WebhookReceiver {
  url: string;
  count(): Promise<{ requests: number; distinct: number; last: number }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The node:http receiver of the webhook row (processes/webhook-receiver.ts), in its own process. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const port = await freePort();
  const spawned = await spawnTs(
    `${repoRoot}packages/bench/src/processes/webhook-receiver.ts`,
    [String(port)],
    {},
    (out) => out.includes('ready'),
  );
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/hooks/citydeals`,
    count: async () =>
      (await (await fetch(`${base}/_count`)).json()) as { requests: number; distinct: number; last: number },
    reset: async () => {
      await fetch(`${base}/_reset`);
    },
    stop: spawned.stop,
  };
}
