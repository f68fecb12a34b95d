export * from './messaging-tables.migration.ts';
export type * from './messaging-tables.ts';
export * from './migrator.ts';
export * from './pool.ts';
