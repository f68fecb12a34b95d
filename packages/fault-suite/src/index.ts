export { adminAuth, adminKey, type ServiceKey, System, serviceKeys } from './system.ts';
