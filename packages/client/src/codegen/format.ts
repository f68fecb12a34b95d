import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** The project's own formatter, so generated files read like the rest and pass `npm run lint`. */
export function formatSource(source: string, kind: 'ts' | 'json'): string {
  const run = spawnSync('npx', ['biome', 'format', `--stdin-file-path=generated.${kind}`], {
    cwd: repoRoot,
    input: source,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`biome could not format the generated file:\n${run.stderr}`);
  return run.stdout;
}
