import { once } from 'node:events';
import { createServer } from 'node:net';

export const LOCALHOST = '127.0.0.1';

/** True when nothing listens on host:port (checked by binding it for a moment). */
export async function isPortFree(port: number, host = LOCALHOST): Promise<boolean> {
  const server = createServer();
  server.unref();
  try {
    server.listen({ port, host, exclusive: true });
    await once(server, 'listening');
  } catch {
    return false;
  }
  server.close();
  await once(server, 'close');
  return true;
}

/**
 * A port the OS just handed out. Another process could take it before the caller binds it; the window is
 * milliseconds, and a clash shows up as a clear start failure, not as silent sharing.
 */
export async function freePort(host = LOCALHOST): Promise<number> {
  const server = createServer();
  server.unref();
  server.listen({ port: 0, host, exclusive: true });
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface PortChoice {
  port: number;
  /** Set when the port is not the one a person would expect, to be shown on the console. */
  note?: string;
}

/**
 * The port for a service: an explicit request is honoured exactly (0 = any free port); the conventional
 * default is used when free, otherwise another free port, with a note saying so.
 */
export async function choosePort(
  requested: number | undefined,
  conventional: number,
  variable: string,
  checkFree: (port: number) => Promise<boolean> = (p) => isPortFree(p),
  pickFree: () => Promise<number> = () => freePort(),
): Promise<PortChoice> {
  if (requested === 0) return { port: await pickFree() };
  if (requested !== undefined) {
    if (await checkFree(requested)) return { port: requested };
    throw new Error(`port ${requested} (${variable}) is already in use; choose another or unset ${variable}`);
  }
  if (await checkFree(conventional)) return { port: conventional };
  const port = await pickFree();
  return { port, note: `port ${conventional} is in use, using ${port} instead (set ${variable} to choose)` };
}
