import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/** A real HTTP static file server on 127.0.0.1, serving `root`, with an optional run of 503s first. */
export interface StaticServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** Start a static server; `failFirst` requests answer 503 before files are served. */
export async function startStaticServer(root: string, { failFirst = 0 } = {}): Promise<StaticServer> {
  const requests: string[] = [];
  let failures = failFirst;
  const server: Server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    requests.push(path);
    if (failures > 0) {
      failures--;
      response.writeHead(503).end('busy');
      return;
    }
    try {
      const body = await readFile(join(root, normalize(path)));
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago), for unreachable-server tests. */
export async function getClosedPort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}
