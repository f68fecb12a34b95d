import type { z } from 'zod';
import type { baseConfigSchema } from './config.ts';

export type BaseConfig = Readonly<z.output<ReturnType<typeof baseConfigSchema>>>;
