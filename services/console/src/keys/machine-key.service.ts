import { generateApiKey, type StaffIdentity } from '@citydeals/service-kit';
import type { Backend } from '../backends/services.client.ts';
import type { ServiceContext } from '../context.ts';
import {
  findMachineKey,
  insertMachineKey,
  listMachineKeys,
  markRevoked,
  setServiceKeys,
} from './machine-key.repository.ts';
import {
  type KeyScope,
  keyBackends,
  type MachineKeyView,
  type MachineSystem,
  machineKeyView,
  type ServiceKeyState,
  serviceKeyName,
} from './machine-key.rules.ts';

const who = (staff: StaffIdentity) => `${staff.name} <${staff.email}>`;

export type IssueResult =
  | { ok: true; id: string; key: string }
  | { ok: false; failedAt: Backend; status: number };

/**
 * One key for one system, generated here and registered at each service through its public API
 * (`POST /admin/api-keys` with the key), as the person. The console keeps the services' ids, never the key.
 * If a service refuses, the key is revoked where it was registered already: no half-issued key stays live.
 */
export async function issueMachineKey(
  ctx: ServiceContext,
  staff: StaffIdentity,
  input: { system: MachineSystem; label: string; scopes: KeyScope[] },
): Promise<IssueResult> {
  const id = ctx.newId();
  const key = generateApiKey();
  await insertMachineKey(ctx.db, {
    id,
    system: input.system,
    label: input.label,
    scopes: input.scopes,
    createdAt: ctx.clock.now(),
    createdBy: who(staff),
  });
  const answers = await Promise.all(
    keyBackends.map((backend) =>
      ctx.services
        .call<{ id: number }>(staff, backend, 'POST', '/admin/api-keys', {
          body: { name: serviceKeyName(input.system, input.label, id), scopes: input.scopes, key },
        })
        .catch(() => ({ status: 503, body: { id: 0 } }))
        .then((answer) => ({ backend, answer })),
    ),
  );
  const registered: Record<string, number> = {};
  for (const { backend, answer } of answers) if (answer.status === 201) registered[backend] = answer.body.id;
  const failed = answers.find(({ answer }) => answer.status !== 201);
  if (failed) {
    await setServiceKeys(ctx.db, id, registered);
    await revokeMachineKey(ctx, staff, id);
    return { ok: false, failedAt: failed.backend, status: failed.answer.status };
  }
  await setServiceKeys(ctx.db, id, registered);
  return { ok: true, id, key };
}

/**
 * Revokes the key at every service that holds it (each checks keys in Postgres on every call, so it is
 * refused at once on every replica), then marks it revoked here. A service that does not answer keeps the
 * key live there: the result names it, and revoking again finishes the job.
 */
export async function revokeMachineKey(
  ctx: ServiceContext,
  staff: StaffIdentity,
  id: string,
): Promise<{ found: boolean; failed: Backend[] }> {
  const row = await findMachineKey(ctx.db, id);
  if (!row) return { found: false, failed: [] };
  const failed: Backend[] = [];
  await Promise.all(
    Object.entries(row.service_keys).map(async ([backend, keyId]) => {
      const answer = await ctx.services
        .call(staff, backend as Backend, 'DELETE', `/admin/api-keys/${keyId}`)
        .catch(() => ({ status: 503 }));
      // 404: nothing to revoke there any more.
      if (answer.status !== 200 && answer.status !== 404) failed.push(backend as Backend);
    }),
  );
  if (failed.length === 0) await markRevoked(ctx.db, id, ctx.clock.now(), who(staff));
  return { found: true, failed };
}

/** The console's keys with their state at each service: three list calls, whatever the number of keys. */
export async function listMachineKeyViews(
  ctx: ServiceContext,
  staff: StaffIdentity,
): Promise<MachineKeyView[]> {
  const [rows, ...answers] = await Promise.all([
    listMachineKeys(ctx.db),
    ...keyBackends.map((backend) =>
      ctx.services
        .call<{ items: ServiceKeyState[] }>(staff, backend, 'GET', '/admin/api-keys')
        .then((a) => (a.status === 200 ? a.body.items : null))
        .catch(() => null),
    ),
  ]);
  const lists = Object.fromEntries(keyBackends.map((b, i) => [b, answers[i] ?? null])) as Record<
    Backend,
    ServiceKeyState[] | null
  >;
  return rows.map((row) => machineKeyView(row, lists));
}
