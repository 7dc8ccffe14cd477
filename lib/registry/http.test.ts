import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getClosedPort } from '../../tests/static-server.ts';
import { fetchWithRetries } from './http.ts';

interface Seen {
  path: string;
  authorization: string | undefined;
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A real HTTP server on 127.0.0.1 recording each request's path and Authorization header. */
async function serve(handle: (request: IncomingMessage, response: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization });
    handle(request, response);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const running = { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise<void>((done) => server.close(() => done())) };
  servers.push(running);
  return running;
}

describe('fetching with retries and hand-followed redirects', () => {
  it('follows a redirect on the same origin with the credentials', async () => {
    const server = await serve((request, response) => {
      if (request.url === '/a') response.writeHead(307, { location: '/b' }).end();
      else response.end('ok');
    });
    const response = await fetchWithRetries(new URL('/a', server.origin), 'a', { headers: { authorization: 'Bearer secret' } });
    expect(await response.text()).toBe('ok');
    expect(server.seen).toEqual([
      { path: '/a', authorization: 'Bearer secret' },
      { path: '/b', authorization: 'Bearer secret' },
    ]);
  });

  it('follows a redirect to another origin only when allowed, and then without the credentials', async () => {
    const cdn = await serve((_request, response) => response.end('blob'));
    const registry = await serve((_request, response) => response.writeHead(307, { location: `${cdn.origin}/blob?signature=abc` }).end());
    await expect(fetchWithRetries(new URL('/v2/x/blobs/y', registry.origin), 'y', { headers: { authorization: 'Bearer secret' } })).rejects.toThrow(
      `y: redirects to another origin (${cdn.origin}); not followed for content that is not pinned by a digest`,
    );
    expect(cdn.seen).toEqual([]);
    const response = await fetchWithRetries(new URL('/v2/x/blobs/y', registry.origin), 'y', {
      headers: { authorization: 'Bearer secret' },
      publicHeaders: { accept: '*/*' },
      crossOriginRedirects: 'follow',
    });
    expect(await response.text()).toBe('blob');
    expect(cdn.seen).toEqual([{ path: '/blob?signature=abc', authorization: undefined }]);
  });

  it('stops after a bounded number of redirects', async () => {
    const server = await serve((_request, response) => response.writeHead(302, { location: '/again' }).end());
    await expect(fetchWithRetries(new URL('/start', server.origin), 'loop')).rejects.toThrow('loop: more than 5 redirects');
    expect(server.seen).toHaveLength(6);
  });

  it('retries 503 with back-off a bounded number of times, and gives up naming the URL and the last problem', async () => {
    const server = await serve((_request, response) => response.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}'));
    await expect(fetchWithRetries(new URL('/v2/', server.origin), 'registry', { retries: 2, backoffMs: 1 })).rejects.toThrow(
      `registry: unreachable at ${server.origin}/v2/ after 3 attempts (HTTP 503: UNAVAILABLE busy)`,
    );
    expect(server.seen).toHaveLength(3);
  });

  it('fails at once on a 4xx, naming the OCI error code, and marks a 404 as not found', async () => {
    const server = await serve((request, response) =>
      response.writeHead(request.url === '/denied' ? 403 : 404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'),
    );
    await expect(fetchWithRetries(new URL('/denied', server.origin), 'm', { retries: 3 })).rejects.toThrow(
      `m: ${server.origin}/denied answered HTTP 403: DENIED requested access to the resource is denied`,
    );
    await expect(fetchWithRetries(new URL('/missing', server.origin), 'm', { retries: 3 })).rejects.toMatchObject({ notFound: true });
    expect(server.seen).toHaveLength(2);
  });

  it('reports a server that is not there after its retries', async () => {
    const port = await getClosedPort();
    await expect(fetchWithRetries(new URL(`http://127.0.0.1:${port}/v2/`), 'registry', { retries: 1, backoffMs: 1 })).rejects.toThrow(
      `registry: unreachable at http://127.0.0.1:${port}/v2/ after 2 attempts (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });
});
