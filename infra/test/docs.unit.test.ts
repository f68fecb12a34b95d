/**
 * The README and docs/ stay true: every repository path they name exists, every `npm run` script they name is
 * in package.json, every function the architecture page places in a file is there, and the README stays short
 * enough to read. Files only: no servers, part of `npm run test:unit`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../../', import.meta.url));
const README_MAX_BYTES = 15 * 1024;

const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Every file of the repository, relative to its root, without installed, generated or runtime folders. */
function repositoryFiles(dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', '.git', '.data', '.tap', 'dist', 'bench-results'].includes(entry.name)) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? repositoryFiles(path) : [relative(root, path)];
  });
}
const files = repositoryFiles();
const topLevel = new Set(readdirSync(root));

/** What a document puts in backticks. */
function codeSpans(text: string): string[] {
  return [...text.replaceAll(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!.trim());
}

/** A span that names a file or folder of this repository, not a URL, a placeholder or a runtime folder. */
function repositoryPath(span: string): string | undefined {
  const path = span.replace(/\/$/, '');
  if (/[\s<>*{}…$:]/.test(path) || /^(\/|@|application\/|\.data|bench-results|x\.)/.test(path))
    return undefined;
  const named = path.includes('/') || /\.(ts|mjs|cjs|md|json|ya?ml|conf|sql|sh)$/.test(path);
  return named ? path : undefined;
}

function exists(path: string): boolean {
  if (topLevel.has(path.split('/')[0]!)) return existsSync(join(root, path));
  // Named relative to a folder the text already gave (`outbox-relay.test.ts`, `faults/abuse.fault.ts`).
  return files.some((file) => `/${file}/`.includes(`/${path}/`) || `/${file}`.endsWith(`/${path}`));
}

t.test('the README stays short', async (t) => {
  const size = statSync(join(root, 'README.md')).size;
  t.ok(size <= README_MAX_BYTES, `README.md is ${size} bytes, at most ${README_MAX_BYTES}`);
});

t.test('every path the README and docs/ name exists', async (t) => {
  for (const document of documents) {
    const spans = codeSpans(readFileSync(join(root, document), 'utf8'));
    const missing = spans.map(repositoryPath).filter((path) => path !== undefined && !exists(path));
    t.same(missing, [], `${document}: paths that do not exist`);
  }
});

t.test('every npm script the README and docs/ name exists', async (t) => {
  const scripts = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts);
  for (const document of documents) {
    const text = readFileSync(join(root, document), 'utf8');
    const named = [...text.matchAll(/npm run ([a-z][a-z:-]*)/g)].map((m) => m[1]!);
    t.same(
      named.filter((script) => !scripts.includes(script)),
      [],
      `${document}: npm run scripts that do not exist`,
    );
  }
});

/** A camelCase or PascalCase name with an inner capital: a function, class or method, not a table name. */
const IDENTIFIER = /^[A-Za-z][a-z0-9]+[A-Z][A-Za-z0-9]*$/;

function defines(source: string, name: string): boolean {
  const declared = new RegExp(`\\b(function\\*?|class|const|let|interface|type)\\s+${name}\\b`);
  const member = new RegExp(`^\\s*(?:(?:async|static|private|readonly|get)\\s+)*#?${name}\\s*[(:<=]`, 'm');
  return declared.test(source) || member.test(source);
}

/** Each table row or list item of a section, as the code spans it holds. */
function entries(text: string, heading: string): string[][] {
  const start = text.indexOf(`## ${heading}`);
  if (start < 0) return [];
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return section
    .split(/\n(?=\||\d+\. )/)
    .filter((entry) => /^(\||\d+\. )/.test(entry))
    .map(codeSpans);
}

t.test('each function docs/architecture.md places in a file is defined there', async (t) => {
  const text = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const checked = [
    ...entries(text, 'Where each rule lives'),
    ...entries(text, "One registration, from HTTP to the attendee's inbox"),
  ];
  t.ok(checked.length >= 15, 'the rule table and the walk through one registration were found');
  for (const spans of checked) {
    const sources = spans
      .filter((s) => s.endsWith('.ts') && existsSync(join(root, s)))
      .map((s) => readFileSync(join(root, s), 'utf8'));
    for (const name of spans.filter((s) => IDENTIFIER.test(s))) {
      t.ok(
        sources.some((source) => defines(source, name)),
        `${name} is defined in one of ${spans.filter((s) => s.endsWith('.ts')).join(', ')}`,
      );
    }
  }
});
