import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../server-process.ts';
import { startStaticServer } from '../static-server.ts';

const SCRIPT_PATH = 'chart/files/helm-test.js';
const REQUEST_PATH = 'chart/files/predict-request.json';

/** Runs the helm test script as the test Pod does: `node --eval "<script>"`, with the Pod's environment. */
async function runHelmTest(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const script = await readFile(SCRIPT_PATH, 'utf8');
  const request = JSON.stringify(JSON.parse(await readFile(REQUEST_PATH, 'utf8')));
  const child = spawn(process.execPath, ['--eval', script], {
    env: { PATH: process.env.PATH ?? '', PREDICT_REQUEST: request, RETRY_DELAY_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

/** A stand-in service: `ready` and `predict` are files its static server answers with, after `failFirst` 503s. */
async function startStandIn(predictAnswer: unknown, failFirst = 0) {
  const root = await mkdtemp(join(tmpdir(), 'helm-test-'));
  await writeFile(join(root, 'ready'), '{"status":"ready"}');
  await writeFile(join(root, 'predict'), JSON.stringify(predictAnswer));
  const server = await startStaticServer(root, { failFirst });
  return {
    url: server.url,
    requests: server.requests,
    close: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

describe('the helm test script against the real server', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('passes: /ready answers 200, then /predict scores the chart\'s customer', async () => {
    const { code, output } = await runHelmTest({ BASE_URL: server.url });
    expect(output).toContain('GET /ready: 200 after 1 attempt(s)');
    expect(output).toMatch(/POST \/predict: 200: \{"model":\{"name":"telco-churn".*"predictions":\[\{"churn":(true|false),"probability":0\.\d+\}\]\}/);
    expect(code).toBe(0);
  });
});

describe('the helm test script against stand-ins', () => {
  const goodAnswer = { predictions: [{ churn: true, probability: 0.61 }] };

  it('retries /ready while the service wakes up, then passes', async () => {
    const standIn = await startStandIn(goodAnswer, 2);
    try {
      const { code, output } = await runHelmTest({ BASE_URL: standIn.url, READY_ATTEMPTS: '5' });
      expect(output).toContain('GET /ready: attempt 1 of 5: status 503');
      expect(output).toContain('GET /ready: 200 after 3 attempt(s)');
      expect(standIn.requests).toEqual(['/ready', '/ready', '/ready', '/predict']);
      expect(code).toBe(0);
    } finally {
      await standIn.close();
    }
  });

  it.each([
    ['no predictions', { predictions: [] }],
    ['a probability out of [0, 1]', { predictions: [{ churn: true, probability: 1.5 }] }],
    ['no churn flag', { predictions: [{ probability: 0.2 }] }],
  ])('fails, saying why, on an answer with %s', async (_, answer) => {
    const standIn = await startStandIn(answer);
    try {
      const { code, output } = await runHelmTest({ BASE_URL: standIn.url });
      expect(output).toContain('helm test failed: POST');
      expect(output).toContain('expected 1 prediction(s) {churn, probability in [0, 1]}');
      expect(code).toBe(1);
    } finally {
      await standIn.close();
    }
  });

  it('gives up after READY_ATTEMPTS when nothing answers', async () => {
    // A port that was free a moment ago: connections are refused.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as AddressInfo;
    await new Promise((done) => probe.close(done));
    const { code, output } = await runHelmTest({ BASE_URL: `http://127.0.0.1:${port}`, READY_ATTEMPTS: '2' });
    expect(output).toContain('GET /ready: attempt 2 of 2: ECONNREFUSED');
    expect(output).toContain('did not answer 200 in 2 attempts (last: ECONNREFUSED)');
    expect(code).toBe(1);
  });
});
