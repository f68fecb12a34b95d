// No Kubernetes cluster runs here, so infra/k8s is kept right by reading it: kustomize rendered by this file
// (and compared with `kubectl kustomize` where kubectl is installed), every object validated against the
// Kubernetes API schemas (kubernetes-models), then the rules this project adds. The NATS Helm values and the
// CloudNativePG Cluster have no schema here; their own checks are below.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Service } from 'kubernetes-models/v1';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { serviceNodeFlags } from '../build/build-services.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const k8s = join(root, 'infra/k8s');

type Dict = Record<string, any>;

/** The four services and the port each listens on (console is announced; its code comes later). */
const SERVICES = { registration: 3001, 'deal-tracking': 3002, notification: 3003, console: 3004 } as const;
/** The services that scale out with an autoscaler; console runs a fixed pair for a handful of staff. */
const AUTOSCALED = ['registration', 'deal-tracking', 'notification'];

const MODELS: Record<string, (object: any) => void> = {
  'apps/v1/Deployment': (o) => new Deployment(o).validate(),
  'v1/Service': (o) => new Service(o).validate(),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o).validate(),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o).validate(),
  'networking.k8s.io/v1/NetworkPolicy': (o) => new NetworkPolicy(o).validate(),
};
const CUSTOM_KINDS = new Set(['postgresql.cnpg.io/v1/Cluster']);

function readDocuments(path: string): Dict[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => doc.toJS() as Dict)
    .filter(Boolean);
}

const isObject = (v: unknown): v is Dict => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

/**
 * A strategic merge patch as kustomize applies it to the fields these manifests patch: maps merge, lists of
 * named items (containers, env, volumes) merge by name, other lists are replaced.
 */
function strategicMerge(base: unknown, patch: unknown): unknown {
  if (
    Array.isArray(patch) &&
    Array.isArray(base) &&
    patch.every((item) => isObject(item) && 'name' in item)
  ) {
    // kustomize puts the patch's items first, in the patch's order, then the base's other items.
    const named = patch as Dict[];
    const merged = named.map((item) => {
      const counterpart = base.find((b) => isObject(b) && b.name === item.name);
      return counterpart ? strategicMerge(counterpart, item) : item;
    });
    merged.push(...base.filter((b) => !named.some((item) => isObject(b) && b.name === item.name)));
    return merged;
  }
  if (isObject(patch) && isObject(base)) {
    const merged: Dict = { ...base };
    for (const [key, value] of Object.entries(patch)) merged[key] = strategicMerge(base[key], value);
    return merged;
  }
  return patch;
}

function podSpecOf(object: Dict): Dict | undefined {
  return object.spec?.template?.spec ?? object.spec?.jobTemplate?.spec?.template?.spec;
}

/** `kustomize build` for what these kustomizations use; anything else is refused, not silently ignored. */
function kustomize(dir: string): Dict[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Dict;
  const known = ['apiVersion', 'kind', 'namespace', 'resources', 'images', 'patches'];
  const unknown = Object.keys(kustomization).filter((key) => !known.includes(key));
  if (unknown.length) throw new Error(`${dir}: this renderer does not know ${unknown.join(', ')}`);
  let objects = (kustomization.resources as string[]).flatMap((resource) => {
    const path = join(dir, resource);
    return statSync(path).isDirectory() ? kustomize(path) : readDocuments(path);
  });
  for (const patch of kustomization.patches ?? []) {
    if (!patch.path || patch.target) throw new Error(`${dir}: only file patches matched by kind and name`);
    for (const doc of readDocuments(join(dir, patch.path))) {
      const at = objects.findIndex((o) => o.kind === doc.kind && o.metadata.name === doc.metadata.name);
      if (at < 0) throw new Error(`${patch.path}: no ${doc.kind} ${doc.metadata.name} to patch`);
      objects = objects.with(at, strategicMerge(objects[at], doc) as Dict);
    }
  }
  for (const image of kustomization.images ?? []) {
    for (const object of objects) {
      const pod = podSpecOf(object);
      for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
        const [name] = String(container.image).split(/[@:]/);
        if (name !== image.name) continue;
        const newName = image.newName ?? name;
        container.image = image.digest ? `${newName}@${image.digest}` : `${newName}:${image.newTag}`;
      }
    }
  }
  if (kustomization.namespace) {
    for (const object of objects)
      object.metadata = { ...object.metadata, namespace: kustomization.namespace };
  }
  return objects;
}

const keyOf = (o: Dict) => `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const byKey = (objects: Dict[]) => Object.fromEntries(objects.map((o) => [keyOf(o), o]));

const kubectlKustomize = spawnSync('kubectl', ['kustomize', '--help'], { encoding: 'utf8' }).status === 0;

function bytes(quantity: string): number {
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
  const [, number = 'NaN', unit = ''] = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(quantity) ?? [];
  return Number(number) * (units[unit] ?? 1);
}

/** A version tag (1.2.3, 2.12.1-alpine) or a digest: what a release pins. Never latest, never a bare major. */
function imagePinProblem(image: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const tag = /:([^:/]+)$/.exec(image)?.[1];
  if (!tag) return `${image} has no tag`;
  if (!/^v?\d+\.\d+(\.\d+)?([-.][A-Za-z0-9.-]+)?$/.test(tag)) return `${image}: tag ${tag} is not a release`;
  return undefined;
}

const SECRET_NAMES = /PASSWORD|SECRET|API_KEY|DATABASE_URL|SMTP_URL/;

/** The rules every rendering keeps. */
function deploymentProblems(deployment: Dict): string[] {
  const problems: string[] = [];
  const name = deployment.metadata.name;
  const pod = podSpecOf(deployment)!;
  const say = (problem: string) => problems.push(`${name}: ${problem}`);
  if (pod.securityContext?.runAsNonRoot !== true) say('pod securityContext.runAsNonRoot is not true');
  if (!(pod.securityContext?.runAsUser > 0)) say('pod runs as no user id, or as root');
  if (deployment.spec.template.metadata?.labels?.['app.kubernetes.io/part-of'] !== 'citydeals') {
    say('pods lack app.kubernetes.io/part-of=citydeals (the default-deny policy would miss them)');
  }
  const heapCap = Number(/--max-old-space-size=(\d+)/.exec(serviceNodeFlags.join(' '))?.[1]) * 2 ** 20;
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const where = `container ${container.name}`;
    const problem = imagePinProblem(String(container.image));
    if (problem) say(`${where}: ${problem}`);
    for (const resource of ['cpu', 'memory']) {
      if (!container.resources?.limits?.[resource]) say(`${where}: no ${resource} limit`);
      if (!container.resources?.requests?.[resource]) say(`${where}: no ${resource} request`);
    }
    if (bytes(String(container.resources?.limits?.memory)) <= heapCap) {
      say(`${where}: memory limit at or below the V8 old-generation cap of the image's command`);
    }
    if (container.securityContext?.runAsUser === 0) say(`${where}: runs as root`);
    if (container.securityContext?.allowPrivilegeEscalation !== false) say(`${where}: may escalate`);
    for (const env of container.env ?? []) {
      if (SECRET_NAMES.test(env.name) && !env.valueFrom?.secretKeyRef) {
        say(`${where}: ${env.name} is not taken from a Secret by reference`);
      }
    }
    const port = container.ports?.[0]?.containerPort;
    const portName = container.ports?.[0]?.name;
    const probe = (kind: string, path: string) => {
      const get = container[kind]?.httpGet;
      if (get?.path !== path) say(`${where}: ${kind} does not ask ${path}`);
      else if (get.port !== port && get.port !== portName) say(`${where}: ${kind} asks another port`);
    };
    probe('livenessProbe', '/health/live');
    probe('readinessProbe', '/health/ready');
    probe('startupProbe', '/health/live');
    const env = Object.fromEntries((container.env ?? []).map((e: Dict) => [e.name, e.value]));
    const expected = SERVICES[name as keyof typeof SERVICES];
    if (expected && (Number(env.PORT) !== expected || port !== expected)) {
      say(`${where}: listens on ${env.PORT}/${port}, not ${expected}`);
    }
    const shutdownMs = Number(env.SHUTDOWN_TIMEOUT_MS);
    if (!Number.isFinite(shutdownMs)) say(`${where}: SHUTDOWN_TIMEOUT_MS not set`);
    const preStop = container.lifecycle?.preStop;
    const pauseMs =
      1000 *
      Number(
        preStop?.sleep?.seconds ?? (preStop?.exec?.command?.[0] === 'sleep' ? preStop.exec.command[1] : 0),
      );
    if (!((pod.terminationGracePeriodSeconds ?? 30) * 1000 > shutdownMs + pauseMs)) {
      say(
        `${where}: terminationGracePeriodSeconds is not longer than SHUTDOWN_TIMEOUT_MS plus the preStop pause`,
      );
    }
  }
  if (deployment.spec.strategy?.rollingUpdate?.maxUnavailable !== 0) {
    say('rolling update may take old replicas down before a new one (which migrates) is ready');
  }
  return problems;
}

function rendered(overlay: string): Dict[] {
  return kustomize(join(k8s, overlay));
}

for (const overlay of ['base', 'production']) {
  t.test(`${overlay}: renders, and every object is valid against the Kubernetes schemas`, async (t) => {
    const objects = rendered(overlay);
    t.ok(objects.length > 0);
    for (const object of objects) {
      const type = `${object.apiVersion}/${object.kind}`;
      if (CUSTOM_KINDS.has(type)) continue;
      const validate = MODELS[type];
      t.ok(validate, `${type} is a kind this test validates`);
      if (validate) t.doesNotThrow(() => validate(object), `${keyOf(object)} valid`);
    }
    t.notOk(
      objects.some((o) => o.kind === 'Secret' || o.kind === 'ConfigMap'),
      'no Secret (nor a ConfigMap hiding one) in the manifests',
    );
    if (kubectlKustomize) {
      const out = spawnSync('kubectl', ['kustomize', join(k8s, overlay)], { encoding: 'utf8' });
      t.equal(out.status, 0, 'kubectl kustomize renders it', { stderr: out.stderr });
      t.same(
        byKey(parseAllDocuments(out.stdout).map((d) => d.toJS() as Dict)),
        byKey(objects),
        'kubectl kustomize renders the same objects as this test',
      );
    }
  });
}

t.test('base: every Deployment keeps the container rules too', async (t) => {
  for (const deployment of rendered('base').filter((o) => o.kind === 'Deployment')) {
    t.same(deploymentProblems(deployment), [], deployment.metadata.name);
  }
});

t.test('production: the project rules', async (t) => {
  const objects = rendered('production');
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const deployments = of('Deployment');
  t.same(deployments.map((d) => d.metadata.name).sort(), Object.keys(SERVICES).sort(), 'the four services');
  for (const deployment of deployments) {
    const name = deployment.metadata.name;
    t.same(deploymentProblems(deployment), [], `${name} keeps the rules`);
    const labels = deployment.spec.template.metadata.labels;
    const selects = (o: Dict) =>
      Object.entries(o.spec.selector?.matchLabels ?? o.spec.selector ?? {}).every(
        ([k, v]) => labels[k] === v,
      );
    t.ok(of('PodDisruptionBudget').some(selects), `${name} has a PodDisruptionBudget`);
    t.ok(of('Service').some(selects), `${name} has a Service`);
    const hpa = of('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === name);
    if (AUTOSCALED.includes(name)) {
      t.ok(hpa && hpa.spec.minReplicas >= 2, `${name} scales with an autoscaler, never below two`);
      t.equal(deployment.spec.replicas, undefined, `${name}: replicas left to the autoscaler`);
    } else {
      t.notOk(hpa, `${name} runs a fixed number of replicas`);
      t.ok(deployment.spec.replicas >= 2, `${name}: two replicas or more`);
    }
    const env = podSpecOf(deployment)!.containers[0].env as Dict[];
    t.equal(env.find((e) => e.name === 'NATS_STREAM_REPLICAS')?.value, '3', `${name}: R3 streams`);
    if (name !== 'console') {
      t.ok(
        env.find((e) => e.name === 'API_KEY_PEPPER')?.valueFrom?.secretKeyRef,
        `${name}: API keys hashed with a pepper from its Secret, not one kept beside the hashes`,
      );
    }
  }
});

t.test(
  'production: each service reaches Postgres, NATS and DNS only (notification: SMTP, webhooks)',
  async (t) => {
    const objects = rendered('production');
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const cluster = objects.find((o) => o.kind === 'Cluster')!;
    const deny = policies.find((p) => p.metadata.name === 'default-deny');
    t.same(deny?.spec, {
      podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'citydeals' } },
      policyTypes: ['Ingress', 'Egress'],
    });
    const publicOnly = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'];
    for (const name of Object.keys(SERVICES)) {
      const podLabels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'citydeals' };
      const applies = policies.filter((p) =>
        Object.entries(p.spec.podSelector.matchLabels ?? {}).every(
          ([k, v]) => podLabels[k as keyof typeof podLabels] === v,
        ),
      );
      const destinations: string[] = [];
      for (const policy of applies) {
        for (const rule of policy.spec.egress ?? []) {
          const ports = (rule.ports ?? [{ port: 'any' }]).map((p: Dict) => p.port).join(',');
          for (const peer of rule.to ?? [{ anywhere: true }]) {
            const pod = peer.podSelector?.matchLabels ?? {};
            if (peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'kube-system') {
              destinations.push(
                pod['k8s-app'] === 'kube-dns' && ports === '53,53' ? 'dns' : `kube-system ${ports}`,
              );
            } else if (peer.namespaceSelector) destinations.push(`another namespace ${ports}`);
            else if (pod['cnpg.io/cluster'] === cluster.metadata.name && ports === '5432')
              destinations.push('postgres');
            else if (
              // The labels of the NATS chart's server pods (not its nats-box).
              pod['app.kubernetes.io/name'] === 'nats' &&
              pod['app.kubernetes.io/component'] === 'nats' &&
              ports === '4222'
            )
              destinations.push('nats');
            else if (pod['app.kubernetes.io/name'] in SERVICES && name === 'console') {
              const other = pod['app.kubernetes.io/name'] as keyof typeof SERVICES;
              destinations.push(ports === String(SERVICES[other]) ? `http ${other}` : `${other} ${ports}`);
            } else if (peer.ipBlock && ports === '25,465,587') destinations.push('smtp');
            else if (
              peer.ipBlock &&
              publicOnly.every((c) => peer.ipBlock.except?.includes(c)) &&
              ports === '443,80'
            ) {
              destinations.push('webhooks');
            } else destinations.push(`${JSON.stringify(peer)} ${ports}`);
          }
        }
      }
      const expected = ['dns', 'nats', 'postgres'];
      if (name === 'notification') expected.push('smtp', 'webhooks');
      if (name === 'console') expected.push(...AUTOSCALED.map((other) => `http ${other}`));
      t.same([...new Set(destinations)].sort(), expected.sort(), `${name} egress`);
    }
  },
);

t.test('production: the CloudNativePG cluster', async (t) => {
  const [cluster, ...more] = rendered('production').filter((o) => o.kind === 'Cluster');
  t.equal(more.length, 0, 'one cluster');
  t.equal(cluster?.apiVersion, 'postgresql.cnpg.io/v1');
  const spec = cluster!.spec;
  t.ok(spec.instances >= 3, 'three instances: a primary and two standbys');
  t.ok(spec.minSyncReplicas >= 1, 'a commit waits for a standby (the outbox survives a failover)');
  t.ok(spec.maxSyncReplicas >= spec.minSyncReplicas && spec.maxSyncReplicas < spec.instances);
  t.equal(imagePinProblem(`${spec.imageName}`), undefined, `image ${spec.imageName} pinned`);
  t.ok(bytes(spec.storage?.size ?? '0') > 0, 'storage size');
  t.ok(spec.resources?.limits?.memory && spec.resources?.limits?.cpu, 'limits');
  const sql = (spec.bootstrap.initdb.postInitApplicationSQL as string[]).join('\n');
  const roles = spec.managed.roles as Dict[];
  for (const service of Object.keys(SERVICES)) {
    const schema = service.replace('-', '_');
    const role = roles.find((r) => r.name === `${schema}_svc`);
    t.ok(role?.login && role.passwordSecret?.name, `${schema}_svc logs in with a password from a Secret`);
    t.notOk(
      role?.superuser || role?.createrole || role?.createdb || role?.bypassrls,
      `${schema}_svc is plain`,
    );
    t.match(
      sql,
      new RegExp(`CREATE SCHEMA ${schema} AUTHORIZATION ${schema}_svc`),
      `${schema} owned by its role`,
    );
    t.match(sql, new RegExp(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`), `${schema} closed to others`);
  }
  t.match(sql, /REVOKE CREATE ON SCHEMA public FROM PUBLIC/);
});

t.test('production: NATS Helm values', async (t) => {
  const values = parse(readFileSync(join(k8s, 'production/nats-values.yaml'), 'utf8')) as Dict;
  t.equal(values.config.cluster.enabled, true, 'clustered');
  t.equal(values.config.cluster.replicas, 3, 'three nodes');
  t.equal(values.config.jetstream.enabled, true, 'JetStream');
  t.equal(values.config.jetstream.fileStore.enabled, true, 'file storage');
  t.ok(
    values.config.jetstream.fileStore.pvc?.enabled && values.config.jetstream.fileStore.pvc.size,
    'on a volume',
  );
  t.equal(values.config.jetstream.merge?.sync_interval, 'always', 'sync_interval: always');
  const tag = String(values.container.image.tag);
  t.equal(imagePinProblem(`nats:${tag}`), undefined, `nats:${tag} pinned`);
  const [major = 0, minor = 0] = tag.split(/[.-]/).map(Number);
  t.ok(major > 2 || (major === 2 && minor >= 10), 'a server that accepts sync_interval (2.10 or later)');
  t.ok(values.container.merge?.resources?.limits?.memory, 'memory limit');
  const users = values.config.merge.authorization.users as Dict[];
  const base = readFileSync(join(root, 'infra/nats/nats-server.conf'), 'utf8');
  const baseUsers = [...base.matchAll(/\{\s*user:\s*(\w+)/g)].map((m) => m[1]);
  for (const user of baseUsers)
    t.ok(
      users.some((u) => u.user === user),
      `user ${user} as in nats-server.conf`,
    );
  for (const user of users) {
    const variable = /^<< \$(\w+) >>$/.exec(user.password)?.[1];
    t.ok(variable, `${user.user}: password from the environment`);
    t.ok(
      values.container.env?.[variable ?? '']?.valueFrom?.secretKeyRef,
      `${variable} from a Secret by reference`,
    );
    if (user.user !== 'admin') {
      t.same(user.permissions.subscribe.allow, ['_INBOX.>'], `${user.user} subscribes to inboxes only`);
      t.same(
        [...user.permissions.publish.allow].sort(),
        [`${user.user}.>`, '$JS.API.>', '$JS.ACK.>', '_INBOX.>'].sort(),
        `${user.user} publishes its own events, JetStream API calls and replies only`,
      );
    }
  }
});

t.test('the rules catch what they are for', async (t) => {
  const [good] = rendered('production').filter((o) => o.kind === 'Deployment');
  const broken = (change: (d: Dict) => void) => {
    const copy = structuredClone(good!);
    change(copy);
    return deploymentProblems(copy).length;
  };
  t.same(deploymentProblems(good!), []);
  const container = (d: Dict) => podSpecOf(d)!.containers[0];
  t.ok(
    broken((d) => delete container(d).resources.limits),
    'no limits',
  );
  t.ok(
    broken((d) => (container(d).image = 'registry.example.org/citydeals/x:latest')),
    'latest',
  );
  t.ok(
    broken((d) => (container(d).image = 'registry.example.org/citydeals/x')),
    'no tag',
  );
  t.ok(
    broken((d) => delete container(d).readinessProbe),
    'no readiness probe',
  );
  t.ok(
    broken((d) => (podSpecOf(d)!.securityContext.runAsUser = 0)),
    'root',
  );
  t.ok(
    broken((d) => (podSpecOf(d)!.terminationGracePeriodSeconds = 15)),
    'grace = shutdown timeout',
  );
  t.ok(
    broken((d) => container(d).env.push({ name: 'ADMIN_API_KEY', value: 'x'.repeat(24) })),
    'inline secret',
  );
  t.ok(existsSync(join(k8s, 'README.md')), 'infra/k8s/README.md says how to deploy');
});
