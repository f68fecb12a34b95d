export * from './lease.ts';
export * from './queue-signal.ts';
export * from './queue-worker.ts';
