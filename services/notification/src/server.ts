import { listenUntilSignalled } from '@citydeals/service-kit';
import { loadServiceConfig } from './config.ts';
import { startService } from './service.ts';

const config = loadServiceConfig();
const service = await startService(config);
await listenUntilSignalled(service, {
  port: config.PORT,
  host: config.HOST,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});
