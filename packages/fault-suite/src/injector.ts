import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { v7 as uuidv7 } from 'uuid';
import type { System } from './system.ts';

/** Publishes straight into the system's event namespace, as a broken or replaying publisher would. */
export class Injector {
  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly prefix: string,
  ) {}

  static async open(system: System): Promise<Injector> {
    const nc = await connect({ servers: system.natsUrl, name: 'fault-suite-injector' });
    return new Injector(nc, jetstream(nc), system.namespace);
  }

  /** Any bytes on `subject` (unprefixed, e.g. `registration.attendee.registered`). */
  async raw(subject: string, payload: string, msgID = uuidv7()): Promise<number> {
    const ack = await this.js.publish(`${this.prefix}.${subject}`, payload, { msgID });
    return ack.seq;
  }

  /** An event again, as a new message: same data, a fresh CloudEvents id. */
  async replay(event: Record<string, any>, subject: string): Promise<string> {
    const id = uuidv7();
    await this.raw(subject, JSON.stringify({ ...event, id }), id);
    return id;
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

export const newId = (): string => uuidv7();

/** Every event a service committed to its outbox, oldest first. */
export async function outboxEvents(
  system: System,
  schema: string,
): Promise<{ subject: string; event: Record<string, any> }[]> {
  const rows = await system.query<{ subject: string; payload: any }>(
    `select subject, payload from "${schema}".outbox order by id`,
  );
  return rows.map((r) => ({
    subject: r.subject,
    event: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
  }));
}
