import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataset } from '../training/dataset.ts';
import { startServer, type ServerProcess } from './server-process.ts';

// Short timeouts and a small body budget, so each attack resolves in about a second.
const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1000;
const MAX_BODY_BYTES = 200_000;
const MAX_INFLIGHT_BODY_BYTES = 300_000;

let server: ServerProcess;
let port: number;
let single: string;

beforeAll(async () => {
  single = JSON.stringify({ instances: (await readDataset('training/data/telco-churn.csv')).instances.slice(0, 1) });
  server = await startServer({
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    MAX_INFLIGHT_BODY_BYTES: String(MAX_INFLIGHT_BODY_BYTES),
  });
  port = Number(new URL(server.url).port);
});

afterAll(async () => {
  await server?.stop();
});

/** A raw connection that writes `chunks` and collects everything until the server closes it. */
function openRaw(chunks: string[]): { socket: Socket; answer: Promise<{ text: string; ms: number }> } {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk) => (text += String(chunk)));
  socket.on('error', () => {});
  socket.once('connect', () => {
    for (const chunk of chunks) socket.write(chunk);
  });
  return { socket, answer: new Promise((done) => socket.once('close', () => done({ text, ms: performance.now() - started }))) };
}

const head = (headers: string) => `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${headers}\r\n`;

/** The requests the server counted with status 5xx, from /metrics. */
async function count5xx(): Promise<string[]> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text.split('\n').filter((line) => /^http_request_duration_seconds_count\{.*status="5\d\d"/.test(line) && !line.includes('status="503"'));
}

describe('a hostile or careless client', () => {
  it('gets 408 in the API error format when it sends less than its Content-Length, within the request timeout', async () => {
    const { answer } = openRaw([`${head('Content-Length: 1000\r\n')}${'x'.repeat(430)}`]);
    const { text, ms } = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(text).toContain('"code":"request_timeout"');
    expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2000);
    await new Promise((done) => setTimeout(done, 50));
    expect(server.lines.some((line) => line.msg === 'request' && line.status === 408)).toBe(true);
  });

  it('is cut off with 408 when it sends its headers too slowly', async () => {
    const { socket, answer } = openRaw(['POST /predict HTTP/1.1\r\n']);
    const timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 200);
    const { text, ms } = await answer;
    clearInterval(timer);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
  });

  it('gets 400, never 500, when it abandons a chunked upload mid-body', async () => {
    const { socket, answer } = openRaw([head('Transfer-Encoding: chunked\r\n'), `10\r\n{"instances":[{"\r\n`]);
    setTimeout(() => socket.destroy(), 100);
    await answer;
    await new Promise((done) => setTimeout(done, 100));
    const line = server.lines.filter((entry) => entry.msg === 'request').at(-1);
    expect(line).toMatchObject({ route: '/predict', status: 400 });
    expect(server.lines.some((entry) => entry.msg === 'unhandled error')).toBe(false);
    expect(await count5xx()).toEqual([]);
  });

  it('gets 413 once a chunked upload passes the byte limit, and a chunked batch within it is answered', async () => {
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    const over = await openRaw([head('Transfer-Encoding: chunked\r\nConnection: close\r\n'), ...Array.from({ length: 30 }, () => chunk('x'.repeat(10_000))), '0\r\n\r\n']).answer;
    expect(over.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(over.text).toContain(`"message":"The request body exceeds ${MAX_BODY_BYTES} bytes."`);
    // A body in many chunks is put together before it is decoded: the same answer as in one piece.
    const pieces = single.match(/.{1,37}/gs)!;
    const chunked = await openRaw([head('Transfer-Encoding: chunked\r\nConnection: close\r\n'), ...pieces.map(chunk), '0\r\n\r\n']).answer;
    const whole = await (await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: single })).text();
    expect(chunked.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(chunked.text.endsWith(whole)).toBe(true);
  });

  it('is not invited to send a body that will be refused (Expect: 100-continue)', async () => {
    const refused = await openRaw([head(`Expect: 100-continue\r\nContent-Length: 50000000\r\nConnection: close\r\n`)]).answer;
    expect(refused.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(refused.text).not.toContain('100 Continue');
    const invited = openRaw([head(`Expect: 100-continue\r\nContent-Length: ${single.length}\r\nConnection: close\r\n`)]);
    await new Promise((done) => setTimeout(done, 100));
    invited.socket.write(single);
    const { text } = await invited.answer;
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  });

  it('reads 413 and 415 while it is still sending a large body, instead of a reset', async () => {
    const tooLarge = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(5_000_000) });
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    const csv = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'x'.repeat(2_000_000) });
    expect(csv.status).toBe(415);
  });

  it('gets 400 in the API error format for malformed HTTP', async () => {
    const { text } = await openRaw(['NOT HTTP AT ALL\r\n\r\n']).answer;
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toContain('"code":"bad_request"');
  });

  it('cannot park more body bytes than the budget: the next upload gets 503 with Retry-After, /ready turns 503, and the budget comes back after the timeout', async () => {
    // Two stalled 120 kB uploads fill most of the 262 kB (7/8 of 300 kB) that large bodies may use.
    const parked = [openRaw([`${head('Content-Length: 120000\r\n')}${' '.repeat(1000)}`]), openRaw([`${head('Content-Length: 120000\r\n')}${' '.repeat(1000)}`])];
    await new Promise((done) => setTimeout(done, 150));
    const refused = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"instances":[${' '.repeat(100_000)}]}` });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    expect((await fetch(`${server.url}/ready`)).status).toBe(503);
    // Small bodies still have their reserve, and liveness never depends on the budgets.
    expect((await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: single })).status).toBe(200);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const results = await Promise.all(parked.map(({ answer }) => answer));
    for (const { text } of results) expect(text).toMatch(/^HTTP\/1\.1 408 /);
    await new Promise((done) => setTimeout(done, 1000));
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { admission: { inflightBodyBytes: number; shed: { body_bytes: number } } };
    expect(health.admission.inflightBodyBytes).toBe(0);
    expect(health.admission.shed.body_bytes).toBeGreaterThanOrEqual(1);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/http_requests_shed_total\{reason="body_bytes"\} [1-9]/);
  });
});
