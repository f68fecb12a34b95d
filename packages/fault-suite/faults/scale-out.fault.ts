/**
 * (f) Scale-out: 2 registration and 4 notification replicas (separate processes, one database each
 * service) against many registrations and, then, many reminders coming due at once: exactly one mail per
 * confirmation and per reminder.
 *
 * The size is the issue's: 2 000 registrations and 10 000 reminders (12 000 mails), 2–3 min on the 2-core
 * development machine; FAULTS_SCALE_REGISTRATIONS sets another.
 */
import t from 'tap';
import { System } from '../src/system.ts';
import {
  type Classification,
  createMeeting,
  type RegistrationOp,
  registerOnce,
  summary,
} from '../src/workload.ts';

const registrations = Number(process.env.FAULTS_SCALE_REGISTRATIONS ?? 2000);
const offsets = ['P3D', 'P2DT18H', 'P2DT12H', 'P2DT6H', 'P2D'].slice(
  0,
  Number(process.env.FAULTS_SCALE_OFFSETS ?? 5),
);
const meetings = 4;
const clients = 24;
const day = 86_400_000;

const system = await System.start({
  replicas: { registration: 2, notification: 4 },
  env: { notification: { MAIL_BATCH_SIZE: '100', DATABASE_POOL_SIZE: '8' } },
});
t.teardown(() => system.close());

t.test(
  `${registrations} registrations, ${registrations * offsets.length} reminders, 4 notification replicas`,
  async (t) => {
    const started = Date.now();
    // Meetings 4 days ahead: every reminder is in the future now, and due once the clock moves 3.5 days.
    const starts = new Date(Date.now() + 4 * day);
    const created: { id: string }[] = [];
    for (let i = 0; i < meetings; i++) {
      created.push(
        await createMeeting(system, {
          startsAt: starts.toISOString(),
          endsAt: new Date(starts.getTime() + 3 * 3600_000).toISOString(),
          reminderOffsets: offsets,
        }),
      );
    }
    const ops: RegistrationOp[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < registrations) {
          const i = next++;
          ops.push(await registerOnce(system, created[i % meetings]!.id, 2));
        }
      }),
    );
    const registered = Date.now();
    await system.drain(600_000);
    const confirmed = Date.now();
    t.equal(ops.filter((o) => o.outcome === 'committed' && o.status === 'confirmed').length, registrations);
    const confirmations = classify(ops, 'registration_confirmed', null);
    t.comment(summary('confirmations', confirmations));
    t.same(confirmations.lost, [], 'no confirmation lost');
    t.same(confirmations.duplicated, [], 'no confirmation doubled');
    // Nothing crashes here: a mail on the wire twice, even under its own Message-ID, is a lease gone wrong.
    t.equal(confirmations.resent, 0, 'no confirmation sent twice under the same Message-ID');
    const pending = await system.count('notification.reminder', `status = 'pending'`);
    t.equal(pending, registrations * offsets.length, 'every reminder planned and waiting');

    // Move the notification replicas' clock 3.5 days ahead: every reminder is due at once.
    await Promise.all(
      system.processes.notification.map(async (p) => {
        await p.stop('SIGTERM');
        p.env.REMINDER_CLOCK_SHIFT_MS = String(3.5 * day);
        await p.start();
      }),
    );
    const shifted = Date.now();
    await system.drain(900_000, 3000);
    const reminded = Date.now();
    const reminders = await classifyReminders(ops);
    t.comment(summary(`reminders (${offsets.length} per registration)`, reminders));
    t.same(reminders.lost, [], 'no reminder lost');
    t.same(reminders.duplicated, [], 'no reminder doubled');
    t.equal(reminders.resent, 0, 'no reminder sent twice under the same Message-ID');
    t.equal(reminders.operations, registrations * offsets.length);
    const senders = await system.query<{ n: number }>(
      `select count(distinct coalesce(sent_at::text, '')) as n from notification.email where kind = 'reminder'`,
    );
    void senders;
    t.comment(
      `times: ${Math.round((registered - started) / 1000)} s to register, ${Math.round((confirmed - registered) / 1000)} s more until every confirmation was sent, ${Math.round((reminded - shifted) / 1000)} s to send the reminders after the clock moved; total ${Math.round((Date.now() - started) / 1000)} s`,
    );
    for (const p of system.all()) t.ok(p.running, `${p.service}#${p.replica} running`);
  },
);

function classify(ops: RegistrationOp[], kind: string, _offset: null): Classification {
  const byAddress = new Map<string, Set<string>>();
  let total = 0;
  for (const m of system.mail.received) {
    if (m.kind !== kind) continue;
    total += 1;
    const set = byAddress.get(m.to) ?? new Set<string>();
    set.add(m.messageId);
    byAddress.set(m.to, set);
  }
  const c: Classification = { operations: 0, deliveredOnce: 0, lost: [], duplicated: [], resent: 0 };
  let distinct = 0;
  for (const op of ops) {
    c.operations += 1;
    const n = byAddress.get(op.email.toLowerCase())?.size ?? 0;
    distinct += n;
    if (n === 0) c.lost.push(op.id);
    else if (n > 1) c.duplicated.push(op.id);
    else c.deliveredOnce += 1;
  }
  c.resent = total - distinct;
  return c;
}

/** One distinct reminder mail per (registration, offset); the offset of a mail is read from its email row. */
async function classifyReminders(ops: RegistrationOp[]): Promise<Classification> {
  const rows = await system.query<{ message_id: string; reminder_offset: string }>(
    `select message_id, reminder_offset from notification.email where kind = 'reminder'`,
  );
  const offsetOf = new Map(rows.map((r) => [r.message_id.replace(/^<|>$/g, ''), r.reminder_offset]));
  const got = new Map<string, Set<string>>();
  let total = 0;
  for (const m of system.mail.received) {
    if (m.kind !== 'reminder') continue;
    total += 1;
    const offset = offsetOf.get(m.messageId.replace(/^<|>$/g, '')) ?? 'unknown';
    const key = `${m.to} ${offset}`;
    const set = got.get(key) ?? new Set<string>();
    set.add(m.messageId);
    got.set(key, set);
  }
  const c: Classification = { operations: 0, deliveredOnce: 0, lost: [], duplicated: [], resent: 0 };
  let distinct = 0;
  for (const op of ops) {
    for (const offset of offsets) {
      c.operations += 1;
      const n = got.get(`${op.email.toLowerCase()} ${offset}`)?.size ?? 0;
      distinct += n;
      if (n === 0) c.lost.push(`${op.id} ${offset}`);
      else if (n > 1) c.duplicated.push(`${op.id} ${offset}`);
      else c.deliveredOnce += 1;
    }
  }
  c.resent = total - distinct;
  const unknown = [...got.keys()].filter((k) => k.endsWith(' unknown'));
  if (unknown.length > 0)
    c.duplicated.push(...unknown.map((k) => `reminder mail not in the email table: ${k}`));
  return c;
}
