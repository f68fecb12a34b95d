import { baseConfigSchema, loadConfig } from '@citydeals/service-kit';

export const configSchema = baseConfigSchema({ port: 3003, schema: 'notification' });

export type Config = ReturnType<typeof loadServiceConfig>;

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
