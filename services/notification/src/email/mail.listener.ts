import type pg from 'pg';
import type { Logger } from 'pino';
import { MAIL_CHANNEL_SUFFIX } from './email.repository.ts';

/**
 * Holds one connection that LISTENs for the NOTIFY of transactions that queued mails (from any replica). Only
 * latency depends on it: while it is down, the senders still poll.
 */
export class MailQueuedListener {
  #client: pg.PoolClient | undefined;
  #stopping = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly retryMs: number,
    private readonly logger: Logger,
    private readonly onQueued: () => void,
  ) {}

  start(): void {
    this.#stopping = false;
    void this.#listen();
  }

  stop(): void {
    this.#stopping = true;
    this.#client?.release(true);
    this.#client = undefined;
  }

  async #listen(): Promise<void> {
    if (this.#stopping) return;
    try {
      const client = await this.pool.connect();
      if (this.#stopping) {
        client.release(true);
        return;
      }
      this.#client = client;
      client.on('notification', () => this.onQueued());
      client.on('error', (err) => {
        if (this.#client !== client) return;
        this.logger.warn({ err }, 'mail LISTEN connection lost; polling until it is back');
        this.#client = undefined;
        client.release(true);
        setTimeout(() => void this.#listen(), this.retryMs * 10).unref();
      });
      const channel = `${this.schema}${MAIL_CHANNEL_SUFFIX}`.replaceAll('"', '""');
      await client.query(`listen "${channel}"`);
    } catch (err) {
      if (this.#stopping) return;
      this.logger.warn({ err }, 'mail LISTEN failed; polling until it works');
      setTimeout(() => void this.#listen(), this.retryMs * 10).unref();
    }
  }
}
