import { createConfig, lintFromString } from '@redocly/openapi-core';

/**
 * What Redocly's `recommended` ruleset finds wrong in an OpenAPI document, errors only (warnings are
 * advice), one line each: `rule at pointer: message`. Empty when the document passes.
 */
export async function openApiLintErrors(document: unknown): Promise<string[]> {
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({
    source: JSON.stringify(document),
    absoluteRef: 'openapi.json',
    config,
  });
  return problems
    .filter((p) => p.severity === 'error')
    .map((p) => `${p.ruleId} at ${p.location[0]?.pointer ?? '#'}: ${p.message}`);
}
