/**
 * Maps the bundle locations in a stack trace (`services/<name>/dist/server.mjs:line:column`, as the services
 * log them) back to the TypeScript, through the source maps `npm run build` writes beside each bundle:
 *
 *   npm run build && npm run stack < trace.txt
 *
 * Build the commit the service ran. Log lines work as they are: a JSON `stack` field is mapped in place.
 * The services run without `--enable-source-maps` (see serviceNodeFlags), so this is how their traces are
 * read; a process started with `NODE_OPTIONS=--enable-source-maps` maps its own again.
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A bundle location as a stack frame shows it: a path or file URL, then line and column. */
const BUNDLE_LOCATION = /(?:file:\/\/)?[^\s()"'\\]*?services\/([a-z0-9-]+)\/dist\/server\.mjs:(\d+):(\d+)/g;

/** Where a bundle location of one service came from: source path, line and column, 1-based. */
export type FindSource = (service: string, line: number, column: number) => string | undefined;

/** The trace with each bundle location replaced by its source; a location no map covers stays as it was. */
export function mapStackTrace(text: string, findSource: FindSource): string {
  return text.replace(
    BUNDLE_LOCATION,
    (location, service: string, line: string, column: string) =>
      findSource(service, Number(line), Number(column)) ?? location,
  );
}

/**
 * Reads the source maps of the bundles built under `root` (each once) and names sources relative to `root`
 * (esbuild writes them relative to the map's folder).
 */
export function bundleSources(root = repoRoot): FindSource {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (service: string): SourceMap | null => {
    let map = maps.get(service);
    if (map === undefined) {
      const file = join(root, 'services', service, 'dist', 'server.mjs.map');
      try {
        map = new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as SourceMapPayload);
      } catch {
        process.stderr.write(`no source map at ${file}: run npm run build\n`);
        map = null;
      }
      maps.set(service, map);
    }
    return map;
  };
  // The entry that starts at or before the location, as Node maps its own traces (findOrigin would add the
  // distance from that entry's start, which names a different column than Node's --enable-source-maps).
  return (service, line, column) => {
    const entry = mapOf(service)?.findEntry(line - 1, column - 1);
    if (!entry || !('originalSource' in entry)) return undefined;
    const source = entry.originalSource;
    const file = source.startsWith('file://')
      ? fileURLToPath(source)
      : isAbsolute(source)
        ? source
        : resolve(join(root, 'services', service, 'dist'), source);
    return `${relative(root, file)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  process.stdout.write(mapStackTrace(Buffer.concat(chunks).toString('utf8'), bundleSources()));
}
