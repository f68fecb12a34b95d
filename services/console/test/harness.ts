import { generateKeyPairSync } from 'node:crypto';
import { adminAuth, type ServiceKey, System } from '@citydeals/fault-suite';
import { startTestService, type TestServiceContext } from '@citydeals/testkit';
import { createAccount } from '../src/accounts/account.service.ts';
import { loadServiceConfig } from '../src/config.ts';
import { type ConsoleService, startService } from '../src/service.ts';

export { adminAuth };

export const staffKeys = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};

export const PASSWORD = 'correct horse battery staple';
export const people = {
  beheerder: { email: 'bea@programmabureau.example.nl', name: 'Bea Beheerder' },
  redacteur: { email: 'rik@programmabureau.example.nl', name: 'Rik Redacteur' },
  deur: { email: 'dora@programmabureau.example.nl', name: 'Dora Deur' },
  lezer: { email: 'lex@programmabureau.example.nl', name: 'Lex Lezer' },
} as const;
export type Role = keyof typeof people;

/**
 * The console alone, in-process and not listening, on a database of its own; `close()` stops it and drops the
 * database. It calls no service unless `env` names their URLs.
 */
export function startConsole(env: Record<string, string>): Promise<TestServiceContext<ConsoleService>> {
  return startTestService(
    (base) => startService(loadServiceConfig({ ...base, ...env })),
    (service) => service.stop(),
  );
}

/**
 * The three services as processes (they verify staff tokens with the console's public key) and the console
 * in-process, listening, with an account per role.
 */
export async function startConsoleSystem(
  extraEnv: Record<string, string> = {},
  serviceEnv: Partial<Record<ServiceKey, Record<string, string>>> = {},
) {
  const keys = staffKeys();
  const staffEnv = { STAFF_TOKEN_PUBLIC_KEY: keys.publicPem, SEED_DEMO_DATA: 'true' };
  const system = await System.start({
    env: {
      registration: { ...staffEnv, ...serviceEnv.registration },
      deal_tracking: { ...staffEnv, ...serviceEnv.deal_tracking },
      notification: { ...staffEnv, ...serviceEnv.notification },
    },
  });
  let consoleCtx: TestServiceContext<ConsoleService> | undefined;
  try {
    consoleCtx = await startConsole({
      CONSOLE_SIGNING_KEY: keys.privatePem,
      REGISTRATION_URL: system.url('registration'),
      DEAL_TRACKING_URL: system.url('deal_tracking'),
      NOTIFICATION_URL: system.url('notification'),
      LOGIN_MAX_FAILURES: '3',
      // Every visitor of the tests comes from 127.0.0.1; the limit itself is the file's last test.
      LOGIN_RATE_PER_MINUTE: '60',
      ...extraEnv,
    });
    await consoleCtx.service.http.listen({ port: Number(extraEnv.PORT ?? 0), host: '127.0.0.1' });
  } catch (err) {
    await consoleCtx?.close();
    await system.close();
    throw err;
  }
  const started = consoleCtx;
  for (const [role, person] of Object.entries(people)) {
    await createAccount(started.service.ctx, { ...person, role: role as Role, password: PASSWORD });
  }
  const address = started.service.http.server.address();
  const url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
  return {
    system,
    console: started.service,
    url,
    keys,
    async close() {
      await started.close();
      await system.close();
    },
  };
}

/** A browser without a browser: keeps cookies, submits forms with the CSRF token of the page it read. */
export class Visitor {
  cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, form?: Record<string, string>) {
    const headers: Record<string, string> = {
      cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    };
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      redirect: 'manual',
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [name, ...rest] = pair!.split('=');
      const value = rest.join('=');
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value);
    }
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  get(path: string) {
    return this.request('GET', path);
  }

  /** Reads the form's page first for its CSRF token, as a browser would have it. */
  async submit(pagePath: string, action: string, fields: Record<string, string>, withToken = true) {
    const page = await this.get(pagePath);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    return this.request('POST', action, withToken && token ? { ...fields, _csrf: token } : fields);
  }

  async login(email: string, password = PASSWORD) {
    return this.submit('/login', '/login', { email, password });
  }
}
