export { Injector } from './injector.ts';
export { adminAuth, adminKey, type ServiceKey, System, serviceKeys } from './system.ts';
