// The launcher's reusable parts; `npm start` runs main.ts.
export { newDevelopmentKey, resolveAdminKey } from './admin-key.ts';
export { formatLogLine } from './child-log.ts';
export { type LauncherConfig, loadLauncherConfig } from './config.ts';
export { choosePort, freePort, isPortFree } from './ports.ts';
export { buildServiceEnv, SERVICES, type ServiceDefinition } from './services.ts';
