import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

/** A running {@link startCuttingProxy}. */
export interface CuttingProxy {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** Connections cut so far. */
  cuts(): number;
  stop(): Promise<void>;
}

/**
 * A TCP proxy to `target` (`host:port`) that cuts the connection in the middle of the first `cutCount` responses to a
 * request whose first line matches `pattern`, once `afterBytes` bytes of the response have passed: what a
 * registry restarted or a network dropped mid-download does to a client.
 */
export async function startCuttingProxy(target: string, { pattern, afterBytes, cutCount }: { pattern: RegExp; afterBytes: number; cutCount: number }): Promise<CuttingProxy> {
  const [targetHost, targetPort] = target.split(':');
  let cut = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: targetHost, port: Number(targetPort) });
    sockets.add(client).add(upstream);
    // HTTP/1.1 without pipelining: the response bytes after a matching request belong to it.
    let cutting = false;
    let sent = 0;
    client.on('data', (chunk: Buffer) => {
      const requestLine = chunk.toString('latin1').split('\r\n', 1)[0]!;
      if (/^[A-Z]+ \S+ HTTP\/1\.1$/.test(requestLine)) {
        cutting = cut < cutCount && pattern.test(requestLine);
        sent = 0;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutting) {
        client.write(chunk);
        return;
      }
      const room = afterBytes - sent;
      if (chunk.byteLength < room) {
        sent += chunk.byteLength;
        client.write(chunk);
        return;
      }
      client.write(chunk.subarray(0, room));
      cut++;
      cutting = false;
      client.destroy();
      upstream.destroy();
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    cuts: () => cut,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}
