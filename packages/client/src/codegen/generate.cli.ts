// npm run generate:client: starts the three services on a scratch database and event namespace (the
// machine's Postgres and NATS, as the tests use them), reads their /openapi.json and writes the generated
// files of this package.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchOpenApiDocuments } from './documents.ts';
import { generateClientFiles } from './generate.ts';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const files = generateClientFiles(await fetchOpenApiDocuments());
for (const [path, content] of Object.entries(files)) {
  await mkdir(dirname(join(packageRoot, path)), { recursive: true });
  await writeFile(join(packageRoot, path), content);
  console.log(`wrote packages/client/${path}`);
}
