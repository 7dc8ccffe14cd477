import { cp, chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactPredictor } from '../lib/model/artifact.ts';
import { createEncoder } from '../lib/model/encoding.ts';
import type { Instance } from '../lib/model/signature.ts';
import { loadVersion } from '../lib/registry/registry.ts';
import { createDirectorySource } from '../lib/registry/source.ts';
import { readDataset } from '../training/dataset.ts';
import { startServer, spawnServer, type ServerProcess } from './server-process.ts';
import { getClosedPort, startStaticServer } from './static-server.ts';

let customers: Instance[];
let server: ServerProcess;
/** The committed production version's digest: what pins it when it is served from a remote registry. */
let productionDigest: string;
/** The version the committed `production` alias points at: what a server started without MODEL_VERSION serves. */
let productionVersion: string;

beforeAll(async () => {
  customers = (await readDataset('training/data/telco-churn.csv')).instances;
  const production = await loadVersion(createDirectorySource('model-registry'), 'telco-churn', 'production');
  productionDigest = production.digest;
  productionVersion = production.manifest.version;
  server = await startServer({ ACCESS_LOG: 'all' });
});

afterAll(async () => {
  await server?.stop();
});

const postPredict = (url: string, instances: unknown[]) =>
  fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });

/** Score customers offline, straight from a committed artifact (production by default). */
async function scoreOffline(instances: Instance[], version = 'production'): Promise<number[]> {
  const artifact = await loadVersion(createDirectorySource('model-registry'), 'telco-churn', version);
  const encode = createEncoder(artifact.encoding, artifact.manifest.signature);
  const predictor = createArtifactPredictor(artifact);
  const vector = new Float64Array(artifact.encoding.columns.length);
  return instances.map((instance) => {
    encode(instance, vector, 0);
    return predictor.predictProbability(vector, 0);
  });
}

/** Send a whole HTTP/1.1 request on a raw socket and collect the raw answer. */
function sendRaw(port: number, body: string): { sent: Promise<void>; answer: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => (answer += String(chunk)));
  socket.on('error', (error) => (answer += `socket error: ${error.message}`));
  const sent = new Promise<void>((done) =>
    socket.once('connect', () => {
      socket.write(`POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => done());
    }),
  );
  return { sent, answer: new Promise((done) => socket.once('close', () => done(answer))) };
}

describe('the server process', () => {
  it('gives known customers exactly the probabilities the model gives offline', async () => {
    const batch = customers.slice(0, 1000);
    const response = await postPredict(server.url, batch);
    expect(response.status).toBe(200);
    const { predictions } = (await response.json()) as { predictions: { probability: number; churn: boolean }[] };
    expect(predictions.map((p) => p.probability)).toEqual(await scoreOffline(batch));
  });

  it('still serves 1.0.0, the rollback target, with exactly the probabilities of its tree', async () => {
    const rollback = await startServer({ MODEL_VERSION: '1.0.0' });
    try {
      const batch = customers.slice(0, 1000);
      const response = await postPredict(rollback.url, batch);
      expect(response.status).toBe(200);
      const { model, predictions } = (await response.json()) as { model: { version: string }; predictions: { probability: number }[] };
      expect(model.version).toBe('1.0.0');
      expect(predictions.map((p) => p.probability)).toEqual(await scoreOffline(batch, '1.0.0'));
    } finally {
      await rollback.stop();
    }
  });

  it('keeps the order of a batch', async () => {
    const batch = customers.slice(1000, 1100);
    const reversed = [...batch].reverse();
    const forward = (await (await postPredict(server.url, batch)).json()) as { predictions: unknown[] };
    const backward = (await (await postPredict(server.url, reversed)).json()) as { predictions: unknown[] };
    expect(backward.predictions).toEqual([...forward.predictions].reverse());
  });

  it.each([
    ['malformed JSON', { 'content-type': 'application/json' }, '{"instances":', 400, 'malformed_json'],
    ['a body that is not JSON', { 'content-type': 'text/csv' }, 'female,tenure', 415, 'unsupported_media_type'],
    ['a schema violation', { 'content-type': 'application/json' }, '{"instances":[{"tenure":-1}]}', 422, 'validation_failed'],
    ['a batch over the limit', { 'content-type': 'application/json' }, JSON.stringify({ instances: Array.from({ length: 1001 }, () => ({})) }), 413, 'payload_too_large'],
    ['a body over the byte limit', { 'content-type': 'application/json' }, `{"pad":"${'x'.repeat(1_100_000)}"}`, 413, 'payload_too_large'],
  ])('answers %s with its status and a JSON error body', async (_, headers, body, status, code) => {
    const response = await fetch(`${server.url}/predict`, { method: 'POST', headers, body });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it('answers 404 and 405 over the network as in-process', async () => {
    expect((await fetch(`${server.url}/predict/extra`)).status).toBe(404);
    const response = await fetch(`${server.url}/metrics`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('reports health with cold start, memory and telemetry, readiness, and metrics', async () => {
    await postPredict(server.url, customers.slice(0, 5));
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const health = (await (await fetch(`${server.url}/health`)).json()) as Record<string, any>;
    expect(health.status).toBe('ok');
    expect(health.model).toMatchObject({ name: 'telco-churn', version: productionVersion });
    expect(health.model.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(health.coldStart.readySeconds).toBeGreaterThan(0);
    expect(health.coldStart.firstPredictSeconds).toBeGreaterThanOrEqual(health.coldStart.readySeconds);
    expect(Object.keys(health.model.loadPhases)).toEqual(['resolve', 'download', 'verify', 'compile', 'warmup']);
    for (const seconds of Object.values<number>(health.model.loadPhases)) expect(seconds).toBeGreaterThanOrEqual(0);
    expect(health.model.source.endsWith(`model-registry/telco-churn/${productionVersion}`)).toBe(true);
    expect(health.process.rssBytes).toBeGreaterThan(0);
    expect(health.telemetry.predictions.total).toBeGreaterThanOrEqual(5);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain(`churn_model_info{name="telco-churn",version="${productionVersion}"`);
    expect(metrics).toMatch(/^churn_model_load_phase_seconds\{phase="download"\} [0-9.e-]+$/m);
    expect(metrics).toContain('process_resident_memory_bytes');
  });

  it('gives every answer a request id and its media type, errors and HEAD included', async () => {
    const post = (path: string, body: string, type = 'application/json') => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    const cases: [string, Promise<Response>, number, string][] = [
      ['predict', post('/predict', JSON.stringify({ instances: customers.slice(0, 1) })), 200, 'application/json'],
      ['invalid', post('/predict', '{"instances":[{}]}'), 422, 'application/json'],
      ['unsupported', post('/predict', 'x', 'text/plain'), 415, 'application/json'],
      ['not found', fetch(`${server.url}/nowhere`), 404, 'application/json'],
      ['wrong method', fetch(`${server.url}/predict`), 405, 'application/json'],
      ['health', fetch(`${server.url}/health`), 200, 'application/json'],
      ['head ready', fetch(`${server.url}/ready`, { method: 'HEAD' }), 200, 'application/json'],
      ['metrics', fetch(`${server.url}/metrics`), 200, 'text/plain; version=0.0.4; charset=utf-8'],
      ['openapi', fetch(`${server.url}/openapi.json`), 200, 'application/json'],
      ['docs', fetch(`${server.url}/docs`), 200, 'text/html; charset=UTF-8'],
    ];
    const ids = new Set<string>();
    for (const [name, answer, status, type] of cases) {
      const response = await answer;
      await response.arrayBuffer();
      expect([name, response.status, response.headers.get('content-type')]).toEqual([name, status, type]);
      expect(response.headers.get('x-request-id'), name).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
      ids.add(response.headers.get('x-request-id')!);
    }
    expect(ids.size).toBe(cases.length);
    expect((await fetch(`${server.url}/predict`)).headers.get('allow')).toBe('POST');
  });

  it('logs one JSON line per request with ACCESS_LOG=all, and never a feature value', async () => {
    const marker = 'Credit card (automatic)';
    const response = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'a-test-of-the-log-line' },
      body: JSON.stringify({ instances: [{ ...customers[0], payment_method: marker }] }),
    });
    expect(response.headers.get('x-request-id')).toBe('a-test-of-the-log-line');
    await new Promise((done) => setTimeout(done, 50));
    const lines = server.lines.filter((line) => line.msg === 'request' && line.id === 'a-test-of-the-log-line');
    expect(lines).toEqual([expect.objectContaining({ route: '/predict', status: 200, instances: 1 })]);
    expect(JSON.stringify(server.lines)).not.toContain(marker);
  });

  it('logs only failed requests by default, each with its error code', async () => {
    const quiet = await startServer();
    try {
      await postPredict(quiet.url, customers.slice(0, 2));
      await postPredict(quiet.url, [{ tenure: -1 }]);
      await fetch(`${quiet.url}/health`);
      await new Promise((done) => setTimeout(done, 50));
      const requests = quiet.lines.filter((line) => line.msg === 'request');
      expect(requests).toEqual([expect.objectContaining({ route: '/predict', status: 422, error: 'validation_failed' })]);
    } finally {
      await quiet.stop();
    }
  });
});

describe('loading the model at cold start', () => {
  let tampered: string;

  beforeAll(async () => {
    tampered = await mkdtemp(join(tmpdir(), 'tampered-'));
    await cp('model-registry', tampered, { recursive: true });
    const file = join(tampered, 'telco-churn', productionVersion, 'model.json');
    await chmod(file, 0o644);
    // One digit of the first split threshold, whatever the layout's spacing.
    await writeFile(file, (await readFile(file, 'utf8')).replace(/("threshold": ?)(\d)/, (_, key: string, digit: string) => `${key}${(Number(digit) + 1) % 10}`));
  });

  it('refuses a registry with one changed byte, naming the file and the digests, and exits non-zero', async () => {
    const { exited, lines } = spawnServer({ MODEL_REGISTRY: tampered });
    expect(await exited).toBe(1);
    const failure = lines.find((line) => line.msg.startsWith('model load failed'));
    expect(failure?.error).toMatch(/^model.json: digest sha256:[0-9a-f]{64} does not match the manifest's sha256:[0-9a-f]{64}$/);
    expect(lines.some((line) => line.msg === 'ready')).toBe(false);
  });

  it('refuses a version whose manifest does not match MODEL_DIGEST', async () => {
    const { exited, lines } = spawnServer({ MODEL_VERSION: '1.0.0', MODEL_DIGEST: `sha256:${'0'.repeat(64)}` });
    expect(await exited).toBe(1);
    expect(lines.find((line) => line.msg.startsWith('model load failed'))?.error).toContain(`does not match the expected sha256:${'0'.repeat(64)}`);
  });

  it('serves a model pulled from an HTTP registry when its digest pins it', async () => {
    const registry = await startStaticServer('model-registry');
    const fromHttp = await startServer({ MODEL_REGISTRY: registry.url, MODEL_DIGEST: productionDigest });
    try {
      const response = await postPredict(fromHttp.url, customers.slice(0, 3));
      expect(response.status).toBe(200);
      expect(registry.requests).toContain(`/telco-churn/${productionVersion}/model.json`);
    } finally {
      await fromHttp.stop();
      await registry.close();
    }
  });

  it('refuses an unpinned HTTP registry before fetching anything, saying how to pin it', async () => {
    const registry = await startStaticServer('model-registry');
    try {
      const { exited, lines } = spawnServer({ MODEL_REGISTRY: registry.url });
      expect(await exited).toBe(1);
      const failure = lines.find((line) => line.msg.startsWith('model load failed'));
      expect(failure?.error).toContain('is a remote registry and nothing pins what it serves for telco-churn production; refused');
      expect(failure?.hint).toContain('set MODEL_DIGEST=sha256:');
      expect(registry.requests).toEqual([]);
    } finally {
      await registry.close();
    }
  });

  it('says so when the registry directory does not exist', async () => {
    const { exited, lines } = spawnServer({ MODEL_REGISTRY: '/nonexistent' });
    expect(await exited).toBe(1);
    expect(lines.find((line) => line.msg.startsWith('model load failed'))?.error).toBe('/nonexistent: registry directory does not exist');
  });

  it('answers /ready 503 while the model loads, then 200', async () => {
    const registry = await startStaticServer('model-registry', { failFirst: 2 });
    const spawned = spawnServer({ MODEL_REGISTRY: registry.url, MODEL_DIGEST: productionDigest });
    try {
      const listening = await spawned.waitFor((line) => line.msg === 'listening');
      const url = `http://127.0.0.1:${listening.port as number}`;
      const early = await fetch(`${url}/ready`);
      expect(early.status).toBe(503);
      expect(((await (await fetch(`${url}/health`)).json()) as { status: string }).status).toBe('loading');
      await spawned.waitFor((line) => line.msg === 'ready');
      expect((await fetch(`${url}/ready`)).status).toBe(200);
    } finally {
      spawned.child.kill('SIGTERM');
      await spawned.exited;
      await registry.close();
    }
  });

  it('gives up on an unreachable HTTP registry after bounded retries and exits non-zero', async () => {
    const { exited, lines } = spawnServer({ MODEL_REGISTRY: `http://127.0.0.1:${await getClosedPort()}/`, MODEL_DIGEST: productionDigest });
    expect(await exited).toBe(1);
    expect(lines.find((line) => line.msg.startsWith('model load failed'))?.error).toMatch(/unreachable at .* after 4 attempts/);
  });

  it('refuses invalid configuration with one message per variable', async () => {
    const { exited, lines } = spawnServer({ PORT: 'eighty', MODEL_DIGEST: 'md5:abc' });
    expect(await exited).toBe(1);
    const line = lines.find((entry) => entry.msg === 'invalid configuration');
    expect(line?.error).toBe('PORT must be a number; MODEL_DIGEST must look like sha256:<64 hex digits>');
  });
});

describe('graceful shutdown', () => {
  it('finishes every request already received, including unread ones, then exits 0', async () => {
    const target = await startServer({ DRAIN_TIMEOUT_MS: '10000' });
    const port = Number(new URL(target.url).port);
    const batch = customers.slice(0, 1000);
    const body = JSON.stringify({ instances: batch });
    const inFlight = Array.from({ length: 8 }, () => postPredict(target.url, batch));
    const raw = Array.from({ length: 8 }, () => sendRaw(port, body));
    await Promise.all(raw.map((request) => request.sent));
    target.child.kill('SIGTERM');

    const responses = await Promise.all(inFlight);
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(200));
    for (const response of responses) expect(((await response.json()) as { predictions: unknown[] }).predictions).toHaveLength(1000);
    // Each raw answer resolves when the server closes the connection, so none is left open.
    for (const answer of await Promise.all(raw.map((request) => request.answer))) expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(await target.exited).toBe(0);
    expect(target.lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['draining', 'stopped']));
    expect(target.lines.some((line) => line.msg.startsWith('drain timeout'))).toBe(false);
  });

  it('does not wait for idle keep-alive connections', async () => {
    const target = await startServer({ DRAIN_TIMEOUT_MS: '30000' });
    const port = Number(new URL(target.url).port);
    const idle = sendRaw(port, JSON.stringify({ instances: customers.slice(0, 1) }));
    await idle.sent;
    await new Promise((done) => setTimeout(done, 100));
    target.child.kill('SIGTERM');
    expect(await target.exited).toBe(0);
    expect(await idle.answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(target.lines.some((line) => line.msg.startsWith('drain timeout'))).toBe(false);
  });
});
