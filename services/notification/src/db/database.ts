import type { ServiceTables } from '@citydeals/service-kit';

/** Every table this service may touch: its own schema and nothing else. */
export interface Database extends ServiceTables {}
