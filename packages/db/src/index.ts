export * from './commit-signals.ts';
export * from './messaging-tables.migration.ts';
export type * from './messaging-tables.ts';
export * from './migrator.ts';
export * from './pool.ts';
export * from './pooler.ts';
export * from './prepared-statements.ts';
