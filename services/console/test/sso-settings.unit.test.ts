/**
 * The single sign-on settings as the deployment files give them: every OIDC_ variable the console reads is
 * offered by docker-compose and the Kubernetes Deployment; compose's defaults (nothing in .env) leave single
 * sign-on off and the console starts; set in .env, it is on with those values.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { configSchema, loadServiceConfig } from '../src/config.ts';

const root = new URL('../../../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'), { merge: true });
const composeEnv = compose.services.console.environment as Record<string, string>;
const deployment = parse(
  readFileSync(new URL('infra/k8s/base/console.yaml', root), 'utf8').split(/^---$/m)[0]!,
);
const k8sEnv = deployment.spec.template.spec.containers[0].env as {
  name: string;
  value?: string;
  valueFrom?: Record<string, { name: string; key: string; optional?: boolean }>;
}[];

const oidcVariables = Object.keys(configSchema.shape).filter((k) => k.startsWith('OIDC_'));

/** What compose makes of `${NAME:-default}` with `dotEnv` as the operator's .env. */
const substituted = (dotEnv: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(composeEnv).map(([k, v]) => [
      k,
      String(v).replace(
        /\$\{([A-Z_]+):-([^}]*)\}/g,
        (_, name: string, fallback: string) => dotEnv[name] || fallback,
      ),
    ]),
  );

t.test('every OIDC_ setting the console reads is in docker-compose and the Deployment', async (t) => {
  t.ok(oidcVariables.length >= 5);
  for (const name of oidcVariables) {
    t.match(composeEnv[name], new RegExp(`^\\$\\{${name}:-`), `compose: ${name} from the operator's .env`);
    const entry = k8sEnv.find((e) => e.name === name);
    const ref = entry?.valueFrom?.configMapKeyRef ?? entry?.valueFrom?.secretKeyRef;
    t.match(ref, { name: 'console-sso', optional: true }, `Kubernetes: ${name} from console-sso, optional`);
  }
  t.ok(
    k8sEnv.find((e) => e.name === 'OIDC_CLIENT_SECRET')?.valueFrom?.secretKeyRef,
    'the client secret from a Secret',
  );
});

t.test('compose with nothing in .env: the console starts without single sign-on', async (t) => {
  const config = loadServiceConfig(substituted({}));
  t.equal(config.OIDC_ISSUER, undefined, 'off');
  t.equal(config.OIDC_CLIENT_SECRET, undefined);
  t.equal(config.OIDC_REQUIRE_VERIFIED_EMAIL, true, 'verified addresses required by default');
});

t.test('compose with the provider in .env: single sign-on on, with those values', async (t) => {
  const config = loadServiceConfig(
    substituted({
      OIDC_ISSUER: 'https://login.example.org/realms/office',
      OIDC_CLIENT_ID: 'citydeals-console',
      OIDC_CLIENT_SECRET: 'a-client-secret',
      OIDC_LABEL: 'Rijksportaal',
    }),
  );
  t.match(config, {
    OIDC_ISSUER: 'https://login.example.org/realms/office',
    OIDC_CLIENT_ID: 'citydeals-console',
    OIDC_CLIENT_SECRET: 'a-client-secret',
    OIDC_LABEL: 'Rijksportaal',
  });
  t.throws(
    () => loadServiceConfig(substituted({ OIDC_ISSUER: 'https://login.example.org' })),
    /OIDC_CLIENT_ID/,
    'an issuer without a client id is refused at start',
  );
});
