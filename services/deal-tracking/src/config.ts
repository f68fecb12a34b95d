import { baseConfigSchema, loadConfig } from '@citydeals/service-kit';

export const configSchema = baseConfigSchema({ port: 3002, schema: 'deal_tracking' });

export type Config = ReturnType<typeof loadServiceConfig>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
