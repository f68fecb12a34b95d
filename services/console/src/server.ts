import { loadServiceConfig } from './config.ts';
import { startService } from './service.ts';

const config = loadServiceConfig();
const service = await startService(config);
await service.http.listen({ port: config.PORT, host: config.HOST });

let stopping = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (stopping) process.exit(1);
  stopping = true;
  service.http.log.info({ signal }, 'shutting down');
  setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
  void service.stop().then(() => process.exit(0));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
