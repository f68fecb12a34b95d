/**
 * The services run without source maps (serviceNodeFlags), so a logged trace names the bundle;
 * `npm run stack` maps it back to the TypeScript through the map the build writes. Checked on a bundle made
 * as the services' are, of a service and a workspace package laid out as in the repository.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { bundle, serviceNodeFlags } from '../build/build-services.ts';
import { bundleSources, mapStackTrace } from '../build/map-stack.ts';

const root = mkdtempSync(join(tmpdir(), 'map-stack-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'packages/kit/src'), { recursive: true });
mkdirSync(join(root, 'services/demo/src'), { recursive: true });
writeFileSync(
  join(root, 'packages/kit/src/fail.ts'),
  ['export function fail(reason: string): never {', "  throw new Error('failed: ' + reason);", '}', ''].join(
    '\n',
  ),
);
writeFileSync(
  join(root, 'services/demo/src/server.ts'),
  [
    "import { fail } from '../../../packages/kit/src/fail.ts';",
    'interface Config { name: string }',
    'function start(config: Config): void {',
    '  fail(config.name);',
    '}',
    'try {',
    "  start({ name: 'demo' });",
    '} catch (err) {',
    // One log line as pino writes it: the stack is a JSON string, its newlines escaped.
    "  process.stdout.write(JSON.stringify({ level: 50, err: { stack: (err as Error).stack } }) + '\\n');",
    '}',
    '',
  ].join('\n'),
);
await bundle(join(root, 'services/demo/src/server.ts'), join(root, 'services/demo/dist/server.mjs'));
// The test runner puts an import that turns source maps on into the NODE_OPTIONS of everything it spawns;
// a shell drops it, so the bundle runs as a service's does.
const run = spawnSync(
  '/bin/sh',
  [
    '-c',
    'unset NODE_OPTIONS; exec "$0" "$@"',
    process.execPath,
    ...serviceNodeFlags,
    join(root, 'services/demo/dist/server.mjs'),
  ],
  { encoding: 'utf8' },
);
const logLine = run.stdout.trim();

t.test('without source maps, a trace names the bundle', async (t) => {
  const stack: string = JSON.parse(logLine).err.stack;
  t.match(
    stack,
    /^Error: failed: demo\n\s+at fail \(file:\/\/\S+\/services\/demo\/dist\/server\.mjs:\d+:\d+\)/,
  );
  t.notMatch(stack, /\.ts:/);
});

t.test('mapped, a logged trace names the TypeScript, in the JSON line as logged', async (t) => {
  const mapped = mapStackTrace(logLine, bundleSources(root));
  const frames: string[] = JSON.parse(mapped).err.stack.split('\n');
  t.equal(frames[0], 'Error: failed: demo');
  t.equal(frames[1]?.trim(), 'at fail (packages/kit/src/fail.ts:2:9)');
  t.equal(frames[2]?.trim(), 'at start (services/demo/src/server.ts:4:3)');
  t.notMatch(mapped, /dist\/server\.mjs/);
});

t.test('a location of a service with no map is left as it was', async (t) => {
  const frame = '    at send (file:///app/services/gone/dist/server.mjs:10:5)';
  t.equal(mapStackTrace(frame, bundleSources(root)), frame);
});
