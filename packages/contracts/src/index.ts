export * from './asyncapi.ts';
export * from './catalog.ts';
export * from './common.ts';
export * from './deal-tracking.events.ts';
export * from './envelope.ts';
export * from './notification.events.ts';
export * from './operations.events.ts';
export * from './registration.events.ts';
