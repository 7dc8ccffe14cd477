import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { computeDigest } from '../model/artifact.ts';
import { createByteBudget, readBody } from './download.ts';

const MiB = 1024 * 1024;

/** A real HTTP server whose one answer `respond` writes; `written` counts the body bytes it got out before the client went away. */
async function serve(respond: (response: ServerResponse, state: { written: number }) => void) {
  const state = { written: 0, closed: Promise.resolve() };
  const server = createServer((_request, response) => {
    state.closed = new Promise((done) => response.once('close', () => done()));
    respond(response, state);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    state,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** Writes 64 KiB chunks as fast as the socket takes them, up to `total` bytes. */
function stream(response: ServerResponse, state: { written: number }, total: number) {
  const chunk = Buffer.alloc(64 * 1024, 120);
  const pump = () => {
    while (state.written < total) {
      state.written += chunk.byteLength;
      if (!response.write(chunk)) return void response.once('drain', pump);
    }
    response.end();
  };
  response.once('close', () => response.removeAllListeners('drain'));
  pump();
}

describe('reading a download within a budget', () => {
  it('returns the bytes of a body that fits, checked against its size and digest', async () => {
    const body = Buffer.from('{"ok":true}');
    const server = await serve((response) => response.end(body));
    try {
      const bytes = await readBody(await fetch(server.url), { what: 'x.json', budget: createByteBudget(1024), expectedSize: body.byteLength, expectedDigest: computeDigest(body) });
      expect(Buffer.from(bytes).equals(body)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('refuses a declared Content-Length over the budget without reading the body', async () => {
    const server = await serve((response, state) => {
      response.writeHead(200, { 'content-length': String(100 * MiB) });
      stream(response, state, 100 * MiB);
    });
    try {
      await expect(readBody(await fetch(server.url), { what: 'model.json', budget: createByteBudget(MiB) })).rejects.toThrow(
        'model.json: declares 100 MiB, more than the 1 MiB left of the 1 MiB download limit; refused before reading it',
      );
      await server.state.closed;
      // What the kernel's socket buffers took before the client hung up; nowhere near the 100 MiB declared.
      expect(server.state.written).toBeLessThan(8 * MiB);
    } finally {
      await server.close();
    }
  });

  it('stops reading a body without Content-Length as soon as it passes the budget', async () => {
    const server = await serve((response, state) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      stream(response, state, 100 * MiB);
    });
    try {
      await expect(readBody(await fetch(server.url), { what: 'model.json', budget: createByteBudget(MiB) })).rejects.toThrow(
        'model.json: passes the download limit of 1 MiB; stopped reading',
      );
      await server.state.closed;
      expect(server.state.written).toBeLessThan(16 * MiB);
    } finally {
      await server.close();
    }
  });

  it('shares one budget between the downloads of a version', async () => {
    const server = await serve((response) => response.end(Buffer.alloc(600)));
    try {
      const budget = createByteBudget(1000);
      await readBody(await fetch(server.url), { what: 'a', budget });
      await expect(readBody(await fetch(server.url), { what: 'b', budget })).rejects.toThrow('b: declares 600 B, more than the 400 B left of the 1000 B download limit');
    } finally {
      await server.close();
    }
  });

  it('gives back the bytes of a read the connection cut, so reading it again counts them once', async () => {
    // 256 KiB announced, 128 KiB sent, then the connection drops.
    const server = await serve((response) => {
      response.writeHead(200, { 'content-length': String(256 * 1024) });
      response.write(Buffer.alloc(128 * 1024), () => response.destroy());
    });
    try {
      const budget = createByteBudget(MiB);
      await expect(readBody(await fetch(server.url), { what: 'blob', budget })).rejects.toThrow(TypeError);
      expect(budget.getRemainingBytes()).toBe(MiB);
    } finally {
      await server.close();
    }
  });

  it('refuses a body of another size or digest than its descriptor says', async () => {
    const server = await serve((response) => response.end('tampered'));
    try {
      await expect(readBody(await fetch(server.url), { what: 'blob', budget: createByteBudget(MiB), expectedSize: 7 })).rejects.toThrow(
        'blob: is 8 bytes long where 7 were expected; refused before reading it',
      );
      await expect(readBody(await fetch(server.url), { what: 'blob', budget: createByteBudget(MiB), expectedSize: 8, expectedDigest: computeDigest('original') })).rejects.toThrow(
        `blob: has digest ${computeDigest('tampered')}, not the expected ${computeDigest('original')}: corrupted or tampered`,
      );
    } finally {
      await server.close();
    }
  });
});
