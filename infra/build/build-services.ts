/**
 * Bundles each service's entry point into `services/<name>/dist/server.mjs` for deployment.
 *
 * Why: running from TypeScript through tsx keeps the loader and every transformed source in memory
 * (≈ 45 MB of RSS per process, measured on deal-tracking idle: 181 MB with tsx, 135 MB bundled). The bundle
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
 * 4 MB semi-spaces instead of V8's 16 MB: registration under the benchmark's load peaked at 123 MB RSS
 * instead of 191 MB with no loss of throughput (435 vs 341 req/s spread, 826 vs 742 into one meeting, same
 * machine, minutes apart).
 *
 * An old generation capped at 768 MB: far above what the services keep alive (20–50 MB after a full
 * collection under the benchmark's load), but V8 sizes its heap growth by the cap. Without it, on a machine
 * with several GB, V8 lets the old generation grow up to 4× past what the last mark-compact kept, so the
 * notification service went from ≈ 40 MB live to 130–150 MB of heap (mostly garbage promoted out of the small
 * young generation) before collecting, and its RSS with it. Same runs, default / 512 / 768 / 1024 MB cap:
 * notification under 10 000 reminders 220–232 / 127–132 / 134–137 / 135–137 MB peak RSS, 19.3 / 20.4 /
 * 19.9 / 19.5 s of CPU for the run (more mark-compacts: 20 instead of 4 at 512); deal-tracking under GET
 * /deals 187–189 / 130–133 / 137–139 / 141–145 MB (5 s), 143 MB at 768 over 20 s. 768 keeps every service
 * under 150 MB with no throughput loss that the noise of this machine shows; lower costs CPU, and a
 * legitimate burst must stay well below the cap (measured with BENCH_MEMORY_SAMPLES, packages/bench).
 *
 * Source maps make stack traces point at the TypeScript; they cost ≈ 1–2 MB of heap (measured after a
 * forced GC on idle deal-tracking).
 */
export const serviceNodeFlags: readonly string[] = Object.freeze([
  '--max-semi-space-size=4',
  '--max-old-space-size=768',
  '--enable-source-maps',
]);

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

export async function buildServices(services = readdirSync(join(repoRoot, 'services'))): Promise<void> {
  const external = npmPackages();
  for (const service of services) {
    const dir = join(repoRoot, 'services', service);
    rmSync(join(dir, 'dist'), { recursive: true, force: true });
    await build({
      entryPoints: [join(dir, 'src/server.ts')],
      outfile: join(dir, 'dist/server.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      sourcemap: true,
      external,
      logLevel: 'warning',
    });
    for (const asset of runtimeAssets[service] ?? []) {
      cpSync(join(dir, asset.from), join(dir, asset.to), { recursive: true });
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildServices(process.argv.slice(2).length ? process.argv.slice(2) : undefined);
  process.stdout.write('built services/*/dist/server.mjs\n');
}
