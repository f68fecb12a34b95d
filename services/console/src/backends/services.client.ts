import type { KeyObject } from 'node:crypto';
import { type Clock, type StaffIdentity, signStaffToken } from '@citydeals/service-kit';

export type Backend = 'registration' | 'dealTracking' | 'notification';

export interface BackendAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** The services are reached only through their public HTTP APIs; one service down fails only its pages. */
export class BackendUnavailable extends Error {
  constructor(
    readonly backend: Backend,
    cause: unknown,
  ) {
    super(`${backend} did not answer`, { cause });
    this.name = 'BackendUnavailable';
  }
}

export interface ServicesClient {
  /** Calls a service as the person: a fresh staff token signed for this call. */
  call<T = unknown>(
    staff: StaffIdentity,
    backend: Backend,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<BackendAnswer<T>>;
}

export function createServicesClient(options: {
  urls: Record<Backend, string>;
  signingKey: KeyObject;
  clock: Clock;
  timeoutMs?: number;
}): ServicesClient {
  return {
    async call(staff, backend, method, path, { body, headers } = {}) {
      const token = await signStaffToken(options.signingKey, staff, options.clock.now());
      let response: Response;
      try {
        response = await fetch(new URL(path, options.urls[backend]), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (err) {
        throw new BackendUnavailable(backend, err);
      }
      const text = await response.text();
      const parsed = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
      return { status: response.status, body: parsed, headers: response.headers };
    },
  };
}
