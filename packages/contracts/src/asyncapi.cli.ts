import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildAsyncApiDocument } from './asyncapi.ts';

// Resolved from this file, not the working directory, so npm workspaces running it elsewhere still write
// to the repository's docs folder.
const defaultTarget = path.resolve(import.meta.dirname, '../../../docs/events.asyncapi.json');

const target = process.argv[2] ? path.resolve(process.argv[2]) : defaultTarget;
await mkdir(path.dirname(target), { recursive: true });
await writeFile(target, `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`);
console.log(target);
