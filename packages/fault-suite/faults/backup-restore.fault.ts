/**
 * (issue 22, 7) Backup and restore, the procedure of docs/backup-restore.md. Under a load of registrations
 * and deal changes (webhook endpoint subscribed) each service's schema is dumped with `pg_dump --schema`,
 * all three from one exported snapshot. The load goes on, everything it committed is delivered, then the
 * database is lost (every service killed with -9). The dumps are restored into a fresh database, the event
 * log is reset to the snapshot (streams deleted, retained outbox rows marked unpublished) and the services
 * start on the restored database.
 *
 * What the outbox/inbox design promises across such a restore, and what is asserted:
 * - state is the snapshot's: an operation answered before it is there, one started after it is not (those
 *   are the restore's loss, RPO = the age of the dump); the services' read models agree with their sources;
 * - no event lost or doubled: every event of the snapshot is published again with its own id and applied
 *   once by each consumer (the restored inbox drops what was applied before the snapshot); no event after
 *   the snapshot comes back;
 * - effects: a mail or webhook message whose row was in the dump is not sent again, except with its own
 *   Message-ID / webhook-id if it was still queued then; one whose row was created after the snapshot was
 *   sent before the loss and is sent once more after the restore — a mail under a new Message-ID, a webhook
 *   under a new webhook-id carrying the same event id; operations after the snapshot get nothing more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { dumpSchemas, resetEventLog, restoreSchemas } from '../src/backup.ts';
import { prepareLoad } from '../src/load.ts';
import type { RecordedDelivery, RecordedMail } from '../src/recorders.ts';
import { type ServiceKey, System, serviceKeys } from '../src/system.ts';
import type { DealChangeOp, RegistrationOp } from '../src/workload.ts';

const system = await System.start();
t.teardown(() => system.close());
const dir = mkdtempSync(join(tmpdir(), 'fault-backup-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const schemas: readonly ServiceKey[] = serviceKeys;
const dealUpdated = 'nl.citydeals.deal_tracking.deal.updated.v1';

/** Where an operation's effect stood at the snapshot. */
type AtSnapshot = 'afterSnapshot' | 'doneAtSnapshot' | 'queuedAtSnapshot' | 'createdAfterSnapshot';
interface Expected {
  /** Distinct Message-IDs / webhook-ids the operation must end with, and the effects after the restore. */
  distinct: number;
  afterRestore: 'none' | 'same-id-only' | 'one-new';
}
const expected: Record<AtSnapshot, Expected> = {
  // Gone with the restore; its mail went out once before the loss.
  afterSnapshot: { distinct: 1, afterRestore: 'none' },
  // The dump knows the mail went out.
  doneAtSnapshot: { distinct: 1, afterRestore: 'none' },
  // The dump has the mail queued: it goes out again under its own id.
  queuedAtSnapshot: { distinct: 1, afterRestore: 'same-id-only' },
  // The dump has the event unapplied by notification: applied again, a new mail.
  createdAfterSnapshot: { distinct: 2, afterRestore: 'one-new' },
};

t.test(
  "dump under load, lose the database, restore: the snapshot's events once, effects as promised",
  async (t) => {
    const load = await prepareLoad(system);
    load.start();
    let dumps: Awaited<ReturnType<typeof dumpSchemas>>;
    let doneAtDumpStart = 0;
    let doneAtDumpEnd = 0;
    try {
      await load.progress(60);
      doneAtDumpStart = load.done;
      dumps = await dumpSchemas(system.databaseUrl, schemas, dir);
      doneAtDumpEnd = load.done;
      await load.progress(60);
    } finally {
      await load.stop();
    }
    t.same(load.errors, [], 'the load ran without errors of its own');
    t.ok(
      doneAtDumpEnd > doneAtDumpStart,
      `the dumps ran under load (${doneAtDumpEnd - doneAtDumpStart} operations meanwhile)`,
    );
    await system.drain(180_000);
    const mailsBeforeLoss = system.mail.received.length;
    const hooksBeforeLoss = system.hooks.received.length;

    // The loss: every process dies, the database is gone for them.
    await Promise.all(system.all().map((p) => p.stop('SIGKILL')));
    const fresh = await system.freshDatabase();
    await restoreSchemas(fresh.url, dumps);
    await system.moveTo(fresh);

    // The snapshot as restored, before anything runs on it.
    const restoredRegistrations = new Set(
      (
        await system.query<{ email: string }>(
          'select email from registration.registration where email = any($1)',
          [load.registrations.map((r) => r.email)],
        )
      ).map((r) => r.email),
    );
    const restoredChanges = new Set(
      (
        await system.query<{ summary: string }>(
          `select event->'data'->>'summary' as summary from deal_tracking.deal_change
          where event->'data'->>'summary' = any($1)`,
          [load.dealChanges.map((c) => c.summary)],
        )
      ).map((r) => r.summary),
    );
    const mailRows = new Map(
      (
        await system.query<{ recipient: string; message_id: string; status: string }>(
          `select recipient, message_id, status from notification.email where kind = 'registration_confirmed'`,
        )
      ).map((r) => [r.recipient.toLowerCase(), r]),
    );
    const hookRows = new Map(
      (
        await system.query<{ key: string; webhook_id: string; status: string }>(
          `select deal_id || '@' || deal_version as key, webhook_id, status from notification.webhook_message
          where event_type = $1`,
          [dealUpdated],
        )
      ).map((r) => [r.key, r]),
    );
    const registrationsInFlight = await system.count('registration.outbox', 'published_at is null');

    const committedRegs = load.registrations.filter((r) => r.outcome === 'committed');
    const committedChanges = load.dealChanges.filter((c) => c.outcome === 'committed');
    const inDump = (op: RegistrationOp | DealChangeOp) =>
      op.kind === 'registration' ? restoredRegistrations.has(op.email) : restoredChanges.has(op.summary);
    const all = [...committedRegs, ...committedChanges];
    t.same(
      all.filter((op) => op.answeredAt! < dumps.snapshotAt && !inDump(op)).map((op) => op.id),
      [],
      'every operation answered before the snapshot is in the restored database',
    );
    t.same(
      all.filter((op) => op.startedAt! > dumps.snapshotAt && inDump(op)).map((op) => op.id),
      [],
      'no operation started after the snapshot is in the restored database',
    );
    const lostWithRestore = all.filter((op) => !inDump(op)).length;
    t.ok(lostWithRestore > 0, `operations after the snapshot are gone with the restore (${lostWithRestore})`);

    const { republished } = await resetEventLog(
      system.databaseUrl,
      system.natsUrl,
      system.namespace,
      schemas,
    );
    await system.startAll();
    await system.drain(180_000);

    // The services' read models agree with their sources again.
    t.same(
      await system.query(
        `select r.id, r.version, n.version as seen from registration.registration r
        left join notification.recipient n on n.registration_id = r.id
        where n.version is distinct from r.version`,
      ),
      [],
      'notification knows every restored registration at its version',
    );
    t.same(
      await system.query(
        `select n.registration_id from notification.recipient n
        left join registration.registration r on r.id = n.registration_id where r.id is null`,
      ),
      [],
      'notification knows no registration the restored registration service lacks',
    );
    t.same(
      await system.query(
        `select d.id, d.version, p.version as seen from deal_tracking.deal d
        left join registration.deals p on p.id = d.id where p.version is distinct from d.version`,
      ),
      [],
      "registration's deal projection matches every restored deal at its version",
    );

    // Effects, per operation, against what the snapshot predicts.
    const mailAt = (op: RegistrationOp): AtSnapshot => {
      if (!inDump(op)) return 'afterSnapshot';
      const row = mailRows.get(op.email.toLowerCase());
      if (!row) return 'createdAfterSnapshot';
      return row.status === 'sent' ? 'doneAtSnapshot' : 'queuedAtSnapshot';
    };
    const hookAt = (op: DealChangeOp): AtSnapshot => {
      if (!inDump(op)) return 'afterSnapshot';
      const row = hookRows.get(`${op.dealId}@${op.version}`);
      if (!row) return 'createdAfterSnapshot';
      return row.status === 'delivered' ? 'doneAtSnapshot' : 'queuedAtSnapshot';
    };
    const mails = system.mail.received.filter((m) => m.kind === 'registration_confirmed');
    const hooks = system.hooks.received.filter((d) => d.eventType === dealUpdated);
    const mailsAfter = new Set(system.mail.received.slice(mailsBeforeLoss));
    const hooksAfter = new Set(system.hooks.received.slice(hooksBeforeLoss));

    const mailProblems: string[] = [];
    const tally = newTally();
    for (const op of committedRegs) {
      const at = mailAt(op);
      const want = expected[at];
      const got = mails.filter((m) => m.to === op.email.toLowerCase());
      const problem = checkEffects(got, (m) => m.messageId, mailsAfter, want);
      if (problem) mailProblems.push(`${op.email}: ${problem}`);
      tally[at] += 1;
    }
    const hookProblems: string[] = [];
    const hookTally = newTally();
    for (const op of committedChanges) {
      const at = hookAt(op);
      const want = expected[at];
      const got = hooks.filter((d) => d.dealId === op.dealId && d.version === op.version);
      const events = new Set(got.map((d) => d.eventId)).size;
      const problem =
        events !== 1 ? `${events} distinct events` : checkEffects(got, (d) => d.webhookId, hooksAfter, want);
      if (problem) hookProblems.push(`${op.dealId}@${op.version}: ${problem}`);
      hookTally[at] += 1;
    }
    t.comment(
      `figures: ${JSON.stringify({
        operations: load.done,
        committed: all.length,
        duringDump: doneAtDumpEnd - doneAtDumpStart,
        dumpMs: dumps.finishedAt - dumps.snapshotAt,
        inDump: all.length - lostWithRestore,
        lostWithRestore,
        outboxRowsUnpublishedAtSnapshot: registrationsInFlight,
        outboxRowsRepublished: republished,
        mails: tally,
        webhooks: hookTally,
        mailsAfterRestore: mailsAfter.size,
        deliveriesAfterRestore: hooksAfter.size,
      })}`,
    );
    t.same(mailProblems, [], 'every committed registration has the confirmation mails the snapshot predicts');
    t.same(hookProblems, [], 'every committed deal change has one event, delivered as the snapshot predicts');
    t.same(
      [...mailsAfter].filter((m) => m.kind !== 'registration_confirmed').map((m) => `${m.kind} to ${m.to}`),
      [],
      'no other mail after the restore',
    );
  },
);

/** A problem with an operation's effects, or undefined when they are as expected. */
function checkEffects<E extends RecordedMail | RecordedDelivery>(
  got: E[],
  idOf: (e: E) => string,
  afterRestore: Set<RecordedMail | RecordedDelivery>,
  want: Expected,
): string | undefined {
  const before = got.filter((e) => !afterRestore.has(e));
  const after = got.filter((e) => afterRestore.has(e));
  const distinct = new Set(got.map(idOf)).size;
  if (before.length === 0) return 'nothing before the loss';
  if (distinct !== want.distinct) return `${distinct} distinct ids, expected ${want.distinct}`;
  const beforeIds = new Set(before.map(idOf));
  const newAfter = new Set(after.map(idOf).filter((id) => !beforeIds.has(id))).size;
  if (want.afterRestore === 'none' && after.length > 0)
    return `${after.length} after the restore, expected none`;
  if (want.afterRestore === 'same-id-only' && newAfter > 0) return 'a new id after the restore';
  if (want.afterRestore === 'one-new' && newAfter !== 1)
    return `${newAfter} new ids after the restore, expected 1`;
  return undefined;
}

const newTally = (): Record<AtSnapshot, number> => ({
  afterSnapshot: 0,
  doneAtSnapshot: 0,
  queuedAtSnapshot: 0,
  createdAfterSnapshot: 0,
});
