import { listenUntilSignalled } from '@citydeals/service-kit';
import { loadServiceConfig } from './config.ts';
import { startService } from './service.ts';

const config = loadServiceConfig();
await listenUntilSignalled(await startService(config), config);
