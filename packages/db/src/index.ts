export * from './commit-signals.ts';
export * from './migrator.ts';
export * from './pool.ts';
export * from './pooler.ts';
export * from './prepared-statements.ts';
