export * from './ics.writer.ts';
