// One service's OpenAPI document to a TypeScript module: for every operation, keyed `METHOD /path` as the
// document names it, the types of its path parameters, query, JSON body and each response. Pure: the
// generator feeds it the documents the running services publish.
import { type JsonSchema, propertyKey, schemaToType } from './json-schema-to-ts.ts';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  description?: string;
  schema?: unknown;
}

interface Operation {
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

interface OpenApiDocument {
  info?: { title?: string; version?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

function indent(text: string, by: string): string {
  return text.replaceAll('\n', `\n${by}`);
}

function comment(text: string | undefined): string {
  if (!text) return '';
  const lines = text.replaceAll('*/', '* /').split('\n');
  return lines.length === 1
    ? `/** ${lines[0]} */\n`
    : `/**\n${lines.map((l) => ` * ${l}`.trimEnd()).join('\n')}\n */\n`;
}

function parametersType(
  parameters: Parameter[],
  where: 'path' | 'query',
  refType: (ref: string) => string,
): string {
  const of = parameters.filter((p) => p.in === where);
  if (of.length === 0) return 'never';
  const lines = of.map(
    (p) =>
      `${comment(p.description)}${propertyKey(p.name)}${p.required || where === 'path' ? '' : '?'}: ${indent(schemaToType(p.schema, 'input', refType), '  ')};`,
  );
  return `{\n  ${lines.map((l) => indent(l, '  ')).join('\n  ')}\n}`;
}

function contentType(
  content: Record<string, { schema?: unknown }> | undefined,
  mode: 'input' | 'output',
  refType: (ref: string) => string,
): string {
  if (!content || Object.keys(content).length === 0) return 'undefined';
  const json = Object.entries(content).find(([type]) => type.includes('json'));
  if (json) return schemaToType(json[1].schema, mode, refType);
  return 'string';
}

/** `export interface <name> { 'GET /meetings': {...}; ... }` plus the component schemas it refers to. */
export function openApiToTypeScript(document: OpenApiDocument, name: string): string {
  const schemasName = `${name}Schemas`;
  const components = document.components?.schemas ?? {};
  const refType = (ref: string) => {
    const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
    return match?.[1] && match[1] in components ? `${schemasName}[${JSON.stringify(match[1])}]` : 'unknown';
  };
  const out: string[] = [];
  if (Object.keys(components).length > 0) {
    out.push(`export interface ${schemasName} {`);
    for (const [key, schema] of Object.entries(components).sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`  ${propertyKey(key)}: ${indent(schemaToType(schema, 'output', refType), '  ')};`);
    }
    out.push('}', '');
  }

  out.push(
    `/** The operations of ${document.info?.title ?? name} ${document.info?.version ?? ''}`.trimEnd() +
      ', keyed `METHOD /path`. */',
  );
  out.push(`export interface ${name} {`);
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const parameters = operation.parameters ?? [];
      const body = operation.requestBody;
      const bodyType = body ? contentType(body.content, 'input', refType) : 'never';
      const responses = Object.entries(operation.responses ?? {})
        .filter(([status]) => /^\d{3}$/.test(status))
        .map(
          ([status, response]) =>
            `${status}: ${indent(contentType(response.content, 'output', refType), '  ')};`,
        );
      const entry = [
        `params: ${indent(parametersType(parameters, 'path', refType), '  ')};`,
        `query: ${indent(parametersType(parameters, 'query', refType), '  ')};`,
        `body: ${body && !body.required && bodyType !== 'never' ? `${bodyType} | undefined` : indent(bodyType, '  ')};`,
        `responses: {\n    ${responses.map((r) => indent(r, '    ')).join('\n    ')}\n  };`,
      ];
      out.push(
        `  ${indent(comment(operation.summary), '  ')}${JSON.stringify(`${method.toUpperCase()} ${path}`)}: {\n    ${entry.map((e) => indent(e, '  ')).join('\n    ')}\n  };`,
      );
    }
  }
  out.push('}', '');
  return out.join('\n');
}

export type { JsonSchema };
