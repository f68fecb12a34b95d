import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Stops moving bytes both ways while keeping every connection open, as a dead network path does. */
  blackhole(): void;
  /** Moves bytes again (what was held back is delivered). */
  heal(): void;
  /** Cuts every connection with a TCP reset. */
  resetAll(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy a test puts between a client and its server to inject network faults. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let holding = false;
  const server = createServer((client) => {
    const upstream = createConnection(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => {
        to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    if (holding) {
      client.pause();
      upstream.pause();
    }
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const resetAll = () => {
    for (const [a, b] of pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    pairs.clear();
  };
  return {
    port,
    blackhole() {
      holding = true;
      for (const [a, b] of pairs) {
        a.pause();
        b.pause();
      }
    },
    heal() {
      holding = false;
      for (const [a, b] of pairs) {
        a.resume();
        b.resume();
      }
    },
    resetAll,
    async close() {
      resetAll();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
}
