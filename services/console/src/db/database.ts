import type { StaffRole } from '@citydeals/service-kit';
import type { Generated } from 'kysely';

export interface StaffAccountTable {
  id: string;
  /** Lower-case: one person, one account, whatever they type. */
  email: string;
  name: string;
  role: StaffRole;
  /** argon2id, PHC string; the password itself is never stored. */
  password_hash: string;
  failed_logins: Generated<number>;
  locked_until: Date | null;
  created_at: Date;
  disabled_at: Date | null;
}

export interface StaffSessionTable {
  /** SHA-256 of the cookie's value: a copy of the table logs nobody in. */
  id_hash: string;
  account_id: string;
  csrf_token: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ip: string | null;
}

export interface AuditEntryTable {
  id: Generated<string>;
  at: Date;
  account_id: string | null;
  /** `name <email>` as it was then, or the e-mail address a failed login gave. */
  who: string;
  action: string;
  target: string | null;
  outcome: 'ok' | 'refused' | 'failed';
  detail: unknown;
  ip: string | null;
}

export interface MachineKeyTable {
  id: string;
  /** The consuming system (`machineSystems`). */
  system: string;
  label: string;
  scopes: string[];
  /** The id of this key at each service it is registered at, e.g. `{ "registration": 7 }`. */
  service_keys: Generated<Record<string, number>>;
  created_at: Date;
  /** `name <email>` of the person who issued it. */
  created_by: string;
  revoked_at: Date | null;
  revoked_by: string | null;
}

export interface SsoAttemptTable {
  /** SHA-256 of the `state` sent to the identity provider (the cookie holds the state itself). */
  state_hash: string;
  /** The PKCE verifier; only its challenge went to the provider. */
  code_verifier: string;
  nonce: string;
  next: string | null;
  created_at: Date;
}

export interface Database {
  staff_account: StaffAccountTable;
  staff_session: StaffSessionTable;
  audit_entry: AuditEntryTable;
  machine_key: MachineKeyTable;
  sso_attempt: SsoAttemptTable;
}
