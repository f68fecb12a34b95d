import type { Backend } from '../backends/services.client.ts';

/** The systems that read the services with a key of their own. */
export const machineSystems = ['website', 'dashboard', 'evaluation'] as const;
export type MachineSystem = (typeof machineSystems)[number];
export const keyScopes = ['read', 'admin'] as const;
export type KeyScope = (typeof keyScopes)[number];

/** One key is registered at every service, so a system holds one key and a revocation reaches all three. */
export const keyBackends: readonly Backend[] = ['registration', 'dealTracking', 'notification'];

/** The name the services list the key under: the system, the label and the console's id, to find it back. */
export function serviceKeyName(system: MachineSystem, label: string, id: string): string {
  return `${system}: ${label} (console ${id.slice(0, 8)})`;
}

export interface ServiceKeyState {
  id: number;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface MachineKeyView {
  id: string;
  system: string;
  label: string;
  scopes: string[];
  createdAt: Date;
  createdBy: string;
  /** Revoked in the console, or at every service it was registered at. */
  revoked: boolean;
  revokedBy: string | null;
  /** The latest successful use at any service. */
  lastUsedAt: string | null;
  /** Per service: its state there, or `missing` when the service does not list the key (any more). */
  services: Record<Backend, ServiceKeyState | 'missing' | 'unknown'>;
}

/**
 * The console's record of a key joined with what each service says of it now. `lists` holds each service's
 * answer, or null when the service could not be asked: that service's state is then `unknown`.
 */
export function machineKeyView(
  row: {
    id: string;
    system: string;
    label: string;
    scopes: string[];
    service_keys: Record<string, number>;
    created_at: Date;
    created_by: string;
    revoked_at: Date | null;
    revoked_by: string | null;
  },
  lists: Record<Backend, readonly ServiceKeyState[] | null>,
): MachineKeyView {
  const services = {} as MachineKeyView['services'];
  for (const backend of keyBackends) {
    const list = lists[backend];
    const id = row.service_keys[backend];
    services[backend] =
      list === null ? 'unknown' : (list.find((k) => k.id === id && id !== undefined) ?? 'missing');
  }
  const states = Object.values(services).filter((s): s is ServiceKeyState => typeof s === 'object');
  const used = states.map((s) => s.lastUsedAt).filter((d): d is string => d !== null);
  return {
    id: row.id,
    system: row.system,
    label: row.label,
    scopes: row.scopes,
    createdAt: row.created_at,
    createdBy: row.created_by,
    revoked: row.revoked_at !== null || (states.length > 0 && states.every((s) => s.revokedAt !== null)),
    revokedBy: row.revoked_by,
    lastUsedAt: used.length ? new Date(Math.max(...used.map((d) => Date.parse(d)))).toISOString() : null,
    services,
  };
}
