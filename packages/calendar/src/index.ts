export * from './duration.ts';
export * from './ics.writer.ts';
