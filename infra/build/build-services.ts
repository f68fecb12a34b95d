/**
 * Bundles each service's entry point into `services/<name>/dist/server.mjs` for deployment.
 *
 * Why: running from TypeScript through tsx keeps the loader and every transformed source in memory, tens of
 * MB of RSS per process (figures in docs/performance.md). The bundle
 * holds only the project's own code (the workspaces); npm packages stay external and load from node_modules,
 * so nothing about them changes between tests and production.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How a service bundle is run (the Dockerfile's CMD and `npm run bench` use these). A young generation of
 * 4 MB semi-spaces instead of V8's 16 MB keeps peak RSS well down under load with no loss of throughput.
 *
 * An old generation capped at 768 MB: far above what the services keep alive, but V8 sizes its heap growth
 * by the cap. Without it, on a machine with several GB, V8 lets the old generation grow several times past
 * what the last mark-compact kept (mostly garbage promoted out of the small young generation) before
 * collecting, and the RSS with it. 768 keeps every service within its memory goal with no throughput loss
 * the benchmark's noise shows; a lower cap costs CPU (more mark-compacts), and a legitimate burst must stay
 * well below the cap. The figures behind these choices are in docs/performance.md (BENCH_MEMORY_SAMPLES of
 * packages/bench measures them).
 *
 * No `--enable-source-maps`: with it Node keeps the source maps of the bundle and of every npm package it
 * loads that ships one, and each service peaked markedly higher in RSS under the benchmark's load (figures
 * in docs/performance.md). The maps still ship beside each bundle: `npm run stack` (map-stack.ts) reads a
 * logged trace through them, and `NODE_OPTIONS=--enable-source-maps` turns them on for one process.
 */
export const serviceNodeFlags: readonly string[] = Object.freeze([
  '--max-semi-space-size=4',
  '--max-old-space-size=768',
]);

/**
 * The environment a service bundle runs with besides its configuration (the Dockerfile's ENV and `npm run
 * bench` set these). Two glibc malloc arenas instead of one per thread: V8's compiler and GC threads and
 * libuv's pool each kept an arena of their own, several MB of resident memory outside the V8 heap
 * that held no more than two would (the figures are in docs/performance.md).
 */
export const serviceEnvironment: Readonly<Record<string, string>> = Object.freeze({ MALLOC_ARENA_MAX: '2' });

/** Folders next to a service's sources that it reads at run time, relative to the module that reads them. */
const runtimeAssets: Record<string, { from: string; to: string }[]> = {
  notification: [{ from: 'src/email/templates', to: 'dist/templates' }],
};

function workspaceDirs(): string[] {
  return ['packages', 'services'].flatMap((group) =>
    readdirSync(join(repoRoot, group)).map((name) => join(repoRoot, group, name)),
  );
}

/** Every npm package any workspace depends on: these stay `import`s in the bundle. */
function npmPackages(): string[] {
  const names = new Set<string>();
  for (const dir of [repoRoot, ...workspaceDirs()]) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
      if (!name.startsWith('@citydeals/')) names.add(name);
    }
  }
  return [...names].flatMap((name) => [name, `${name}/*`]);
}

/** One entry point and what it imports, npm packages aside, as an ES module with its source map beside it. */
export async function bundle(entry: string, outfile: string, external: string[] = []): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: true,
    external,
    logLevel: 'warning',
  });
}

export async function buildServices(services = readdirSync(join(repoRoot, 'services'))): Promise<void> {
  const external = npmPackages();
  for (const service of services) {
    const dir = join(repoRoot, 'services', service);
    rmSync(join(dir, 'dist'), { recursive: true, force: true });
    await bundle(join(dir, 'src/server.ts'), join(dir, 'dist/server.mjs'), external);
    for (const asset of runtimeAssets[service] ?? []) {
      cpSync(join(dir, asset.from), join(dir, asset.to), { recursive: true });
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildServices(process.argv.slice(2).length ? process.argv.slice(2) : undefined);
  process.stdout.write('built services/*/dist/server.mjs\n');
}
