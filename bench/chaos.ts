// Chaos suite: attacks the built server the way a hostile or careless client would, on loopback only,
// each scenario bounded in time, and fails unless every threshold holds:
//   parked-bodies  300 connections announce ~1 MB bodies, send 99% of them and stall: RSS stays under the
//                  chart's memory limit, the stalled ones are cut by the request timeout, and a side client
//                  is answered throughout;
//   invalid-cost   a 3 KB batch of 1,000 empty customers (and other invalid batches) costs at most 2x the
//                  server CPU of a valid 1,000-customer batch;
//   no-5xx         malformed, truncated, stalled, oversized, slow and abandoned requests all get a 4xx the
//                  client can read (or a closed connection the server logs as 4xx), never a 5xx;
//   overload       2,000 connections of wrk: a liveness probe on a new connection answers within the
//                  chart's timeout (never 3 failures in a row), /ready turns 503 while shedding and 200
//                  after, only 200 or 503 is answered, RSS stays under the limit.
// Run: npm run chaos [-- --no-build] [-- --only parked-bodies,overload]. Needs wrk for `overload`.
import { spawn, spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readDataset } from '../training/dataset.ts';
import { readCpuSeconds, readRequestDurations, readRssBytes, startServer, stopServer, type SpawnedServer } from './spawn.ts';

/** The chart's memory limit (chart/values.yaml resources.limits.memory): what the worst case must stay under. */
const MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;
/** The server's defaults, which the scenarios rely on (functions/config.ts). */
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 1_024_000;
/** Node checks the timeouts once a second; a connection may outlive its timeout by that much and a margin. */
const TIMEOUT_SLACK_MS = 3_000;
/** The chart's liveness probe (chart/values.yaml livenessProbe): timeout and how many failures in a row restart the container. */
const LIVENESS_TIMEOUT_MS = 3_000;
const LIVENESS_FAILURE_THRESHOLD = 3;
const RESULTS_PATH = 'bench/results/chaos.md';

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** One checked figure of a scenario. */
interface Check {
  scenario: string;
  check: string;
  measured: string;
  threshold: string;
  passed: boolean;
}

/** An answer read by a client: status and body, or the error that ended it. */
interface Answer {
  status: number;
  body: string;
  ms: number;
  error?: string;
}

/** One HTTP request on its own connection (no keep-alive pool), bounded by `timeoutMs`. */
function send(port: number, { method = 'GET', path = '/', headers = {}, body, timeoutMs = 5000 }: { method?: string; path?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number }): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - started }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - started, error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ status: 0, body: '', ms: performance.now() - started, error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end(body);
  });
}

/** A raw connection that writes `chunks`, then keeps the socket until the server closes it; resolves with what came back. */
function sendRaw(port: number, chunks: (string | Buffer)[], { gapMs = 0, abortAfterMs }: { gapMs?: number; abortAfterMs?: number } = {}): { socket: Socket; done: Promise<{ answer: string; ms: number }> } {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
  socket.on('error', () => {});
  const done = new Promise<{ answer: string; ms: number }>((resolve) => socket.once('close', () => resolve({ answer, ms: performance.now() - started })));
  socket.once('connect', async () => {
    for (const chunk of chunks) {
      if (socket.destroyed) return;
      socket.write(chunk);
      if (gapMs > 0) await sleep(gapMs);
    }
    if (abortAfterMs !== undefined) setTimeout(() => socket.destroy(), abortAfterMs);
  });
  return { socket, done };
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);

/** Statuses the server counted, from /metrics: `{ "POST /predict 200": n, ... }`. */
async function readCountedStatuses(server: SpawnedServer): Promise<Record<string, number>> {
  const text = (await send(server.port, { path: '/metrics' })).body;
  const counts: Record<string, number> = {};
  for (const sample of readRequestDurations(text)) if (sample.le === undefined) counts[`${sample.method} ${sample.route} ${sample.status}`] = sample.value;
  return counts;
}

/** Log lines of a server matching a pattern. */
function countLogged(server: SpawnedServer, pattern: RegExp): number {
  return readFileSync(server.logPath, 'utf8').split('\n').filter((line) => pattern.test(line)).length;
}

/** Checks common to every scenario's server: no 5xx counted, no unhandled error logged, still alive. */
async function checkNo5xx(scenario: string, server: SpawnedServer): Promise<Check[]> {
  const counts = await readCountedStatuses(server);
  const fives = Object.entries(counts).filter(([key]) => / 5\d\d$/.test(key) && !key.endsWith(' 503'));
  // No request counted at all would mean /metrics was not read, not that nothing failed.
  if (Object.keys(counts).length === 0) fives.push(['no request counted in /metrics', 0]);
  const unhandled = String(countLogged(server, /"unhandled error"/));
  return [
    { scenario, check: '5xx other than 503 in /metrics', measured: fives.length === 0 ? 'none' : fives.map(([k, v]) => `${k}: ${v}`).join(', '), threshold: 'none', passed: fives.length === 0 },
    { scenario, check: '"unhandled error" log lines', measured: unhandled, threshold: '0', passed: unhandled === '0' },
  ];
}

interface Bodies {
  single: string;
  batch1000: string;
  batch100: string;
}

async function readBodies(): Promise<Bodies> {
  const { instances } = await readDataset('training/data/telco-churn.csv');
  return {
    single: JSON.stringify({ instances: instances.slice(0, 1) }),
    batch1000: JSON.stringify({ instances: instances.slice(0, 1000) }),
    batch100: JSON.stringify({ instances: instances.slice(0, 100) }),
  };
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const PARKED_CONNECTIONS = 300;
const PARKED_DECLARED_BYTES = 1_000_000;
const PARKED_SENT_BYTES = 990_000;

/** 300 uploads of ~1 MB that stall at 99%, while a side client keeps asking for /health and a prediction. */
async function runParkedBodies(bodies: Bodies): Promise<Check[]> {
  const scenario = 'parked-bodies';
  const server = await startServer({ logPath: 'bench/results/chaos-parked-bodies.log' });
  try {
    // Warm the heap the way a busy pod's is before the attack.
    for (let i = 0; i < 30; i++) await send(server.port, { method: 'POST', path: '/predict', headers: JSON_HEADERS, body: bodies.batch1000 });
    const rssBefore = readRssBytes(server.pid);
    const head = `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${PARKED_DECLARED_BYTES}\r\n\r\n`;
    const payload = Buffer.from(`{"instances":[${' '.repeat(PARKED_SENT_BYTES - 14)}`);
    const parked = Array.from({ length: PARKED_CONNECTIONS }, () => sendRaw(server.port, [head, payload]));
    let open = PARKED_CONNECTIONS;
    const closed = parked.map(({ done }) => done.then((result) => ((open -= 1), result)));
    const deadline = performance.now() + REQUEST_TIMEOUT_MS + HEADERS_TIMEOUT_MS + TIMEOUT_SLACK_MS;
    let peakRss = rssBefore;
    const side = { health: 0, healthOk: 0, predict: 0, predictOk: 0, worstMs: 0 };
    while (open > 0 && performance.now() < deadline) {
      peakRss = Math.max(peakRss, readRssBytes(server.pid));
      const [health, predict] = await Promise.all([
        send(server.port, { path: '/health', timeoutMs: 1000 }),
        send(server.port, { method: 'POST', path: '/predict', headers: JSON_HEADERS, body: bodies.single, timeoutMs: 2000 }),
        sleep(200),
      ]);
      side.health++;
      side.predict++;
      if (health.status === 200) side.healthOk++;
      if (predict.status === 200) side.predictOk++;
      side.worstMs = Math.max(side.worstMs, health.ms, predict.ms);
    }
    const results = await Promise.race([Promise.all(closed), sleep(1000).then(() => undefined)]);
    for (const { socket } of parked) socket.destroy();
    const statuses = (results ?? []).map(({ answer }) => statusOf(answer));
    const refused = statuses.filter((status) => status === 503).length;
    const timedOut = statuses.filter((status) => status === 408).length;
    const slowest = Math.max(0, ...(results ?? []).map(({ ms }) => ms));
    return [
      { scenario, check: 'peak RSS with 300 parked ~1 MB bodies', measured: `${mib(peakRss)} (${mib(rssBefore)} before)`, threshold: `< ${mib(MEMORY_LIMIT_BYTES)} (chart limit)`, passed: peakRss < MEMORY_LIMIT_BYTES },
      {
        scenario,
        check: 'parked uploads answered and closed',
        measured: results === undefined ? `${open} still open` : `${refused} refused at once (503), ${timedOut} cut by the timeout (408), last after ${(slowest / 1000).toFixed(1)} s`,
        threshold: `all, within ${(REQUEST_TIMEOUT_MS + TIMEOUT_SLACK_MS) / 1000} s`,
        passed: results !== undefined && refused + timedOut === PARKED_CONNECTIONS && slowest <= REQUEST_TIMEOUT_MS + TIMEOUT_SLACK_MS,
      },
      { scenario, check: 'side client /health and /predict answered 200', measured: `${side.healthOk}/${side.health} and ${side.predictOk}/${side.predict}, slowest ${side.worstMs.toFixed(0)} ms`, threshold: 'all', passed: side.health > 0 && side.healthOk === side.health && side.predictOk === side.predict },
      ...(await checkNo5xx(scenario, server)),
    ];
  } finally {
    await stopServer(server);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Server CPU per request of valid and invalid 1,000-customer batches, measured in interleaved rounds. */
async function runInvalidCost(bodies: Bodies): Promise<Check[]> {
  const scenario = 'invalid-cost';
  const server = await startServer({ logPath: 'bench/results/chaos-invalid-cost.log' });
  const customers = (JSON.parse(bodies.batch1000) as { instances: Record<string, unknown>[] }).instances;
  const kinds: Record<string, { body: string; status: number }> = {
    'valid 1,000 customers': { body: bodies.batch1000, status: 200 },
    '1,000 empty customers (3 KB)': { body: JSON.stringify({ instances: Array.from({ length: 1000 }, () => ({})) }), status: 422 },
    '1,000 customers, last field wrong': { body: JSON.stringify({ instances: customers.map((customer) => ({ ...customer, total_charges: 'unknown' })) }), status: 422 },
    '1,000 customers, every field wrong': { body: JSON.stringify({ instances: customers.map((customer) => Object.fromEntries(Object.keys(customer).map((key) => [key, [key]]))) }), status: 422 },
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((kind) => [kind, []]));
  const requestsPerRound = 40;
  try {
    for (const { body } of Object.values(kinds)) for (let i = 0; i < 10; i++) await send(server.port, { method: 'POST', path: '/predict', headers: JSON_HEADERS, body });
    for (let round = 0; round < 5; round++) {
      for (const [kind, { body, status }] of Object.entries(kinds)) {
        const before = readCpuSeconds(server.pid);
        for (let i = 0; i < requestsPerRound; i++) {
          const answer = await send(server.port, { method: 'POST', path: '/predict', headers: JSON_HEADERS, body });
          if (answer.status !== status) throw new Error(`${kind}: expected ${status}, got ${answer.status} ${answer.body.slice(0, 200)}`);
        }
        samples[kind]!.push(((readCpuSeconds(server.pid) - before) / requestsPerRound) * 1000);
      }
    }
    const valid = median(samples['valid 1,000 customers']!);
    const checks: Check[] = Object.entries(samples).map(([kind, values]) => {
      const ratio = median(values) / valid;
      const spread = `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
      return kind.startsWith('valid')
        ? { scenario, check: `CPU per request, ${kind}`, measured: `${valid.toFixed(2)} ms (rounds ${spread})`, threshold: 'baseline', passed: true }
        : { scenario, check: `CPU per request, ${kind}`, measured: `${median(values).toFixed(2)} ms (rounds ${spread}) = ${ratio.toFixed(2)}x valid`, threshold: '<= 2.00x valid', passed: ratio <= 2 };
    });
    return [...checks, ...(await checkNo5xx(scenario, server))];
  } finally {
    await stopServer(server);
  }
}

/** Hostile and careless requests, each with the answer a client must be able to read. */
async function runNo5xx(bodies: Bodies): Promise<Check[]> {
  const scenario = 'no-5xx';
  const server = await startServer({ logPath: 'bench/results/chaos-no-5xx.log' });
  const port = server.port;
  const checks: Check[] = [];
  const expect = (check: string, measured: string, threshold: string, passed: boolean) => checks.push({ scenario, check, measured, threshold, passed });
  const post = (body: string, headers: Record<string, string> = JSON_HEADERS) => send(port, { method: 'POST', path: '/predict', headers, body });
  try {
    // Slow and stalled clients run in the background while the rest is tried.
    const slowloris = Array.from({ length: 2000 }, () => sendRaw(port, ['POST /predict HTTP/1.1\r\n', 'Host: x\r\n', 'Content-Type: app', 'lication/json\r\n', 'X-Slow: 1\r\n', 'X-Slow: 2\r\n', 'X-Slow: 3\r\n', 'X-Slow: 4\r\n', 'X-Slow: 5\r\n', 'X-Slow: 6\r\n', 'X-Slow: 7\r\n', 'X-Slow: 8\r\n'], { gapMs: 1000 }));
    const short = sendRaw(port, [`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n${bodies.single}`]);

    const cases: [string, Promise<Answer>, number][] = [
      ['null body', post('null'), 422],
      ['an array body', post('[]'), 422],
      ['a number too large for a double', post('1e999'), 422],
      ['instances: null', post('{"instances":null}'), 422],
      ['a customer that is null', post('{"instances":[null]}'), 422],
      ['tenure 1e400 (Infinity)', post(JSON.stringify({ instances: [{ ...JSON.parse(bodies.single).instances[0], tenure: 0 }] }).replace('"tenure":0', '"tenure":1e400')), 422],
      ['__proto__ as a field', post('{"instances":[{"__proto__":{"tenure":1}}]}'), 422],
      ['100,000 nested arrays', post(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 422],
      ['truncated JSON', post(bodies.single.slice(0, 100)), 400],
      ['invalid UTF-8', send(port, { method: 'POST', path: '/predict', headers: JSON_HEADERS, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1') }), 400],
      ['text/csv', post('a,b', { 'content-type': 'text/csv' }), 415],
      ['no content type', post(bodies.single, {}), 415],
      ['1,001 customers', post(JSON.stringify({ instances: Array.from({ length: 1001 }, () => ({})) })), 413],
      ['GET /predict', send(port, { path: '/predict' }), 405],
      ['DELETE /health', send(port, { method: 'DELETE', path: '/health' }), 405],
      ['an unknown path', send(port, { path: '/../../etc/passwd' }), 404],
      ['a 20 KB header', send(port, { path: '/health', headers: { 'x-big': 'x'.repeat(20_000) } }), 431],
    ];
    for (const [name, answer, status] of cases) {
      const { status: got, error } = await answer;
      expect(name, error === undefined ? String(got) : `error ${error}`, String(status), got === status);
    }

    // Clients still writing a large body read the early answer (the server reads and discards the rest).
    for (const [name, headers, size, status] of [
      ['fetch, 5 MB JSON body', JSON_HEADERS, 5_000_000, 413],
      ['fetch, 2 MB text/csv body', { 'content-type': 'text/csv' }, 2_000_000, 415],
    ] as const) {
      try {
        const response = await fetch(`${server.url}/predict`, { method: 'POST', headers, body: 'x'.repeat(size), signal: AbortSignal.timeout(5000) });
        await response.arrayBuffer();
        expect(name, String(response.status), String(status), response.status === status);
      } catch (error) {
        expect(name, `error ${((error as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (error as Error).message}`, String(status), false);
      }
    }

    // Expect: 100-continue: no invitation to send a body that will be refused.
    const continued = await sendRaw(port, [`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${MAX_BODY_BYTES * 5}\r\nConnection: close\r\n\r\n`]).done;
    expect('Expect: 100-continue, 5 MB declared', continued.answer.split('\r\n')[0]!, 'HTTP/1.1 413, no 100 Continue', statusOf(continued.answer) === 413 && !continued.answer.includes('100 Continue'));
    const invited = sendRaw(port, [`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${bodies.single.length}\r\nConnection: close\r\n\r\n`]);
    await sleep(200);
    invited.socket.write(bodies.single);
    const invitedAnswer = (await invited.done).answer;
    expect('Expect: 100-continue, valid body', `${invitedAnswer.includes('100 Continue') ? '100 Continue, then ' : ''}${/HTTP\/1\.1 (?!100)\d{3}/.exec(invitedAnswer)?.[0] ?? 'nothing'}`, '100 Continue, then 200', invitedAnswer.startsWith('HTTP/1.1 100 Continue') && invitedAnswer.includes('HTTP/1.1 200 OK'));

    const malformed = await sendRaw(port, ['GARBAGE / HTTP/1.1\r\n\r\n']).done;
    expect('malformed HTTP', malformed.answer.split('\r\n')[0]!, 'HTTP/1.1 400 with a JSON body', statusOf(malformed.answer) === 400 && malformed.answer.includes('"code":"bad_request"'));

    const shortAnswer = await short.done;
    expect('Content-Length 1000, 430 bytes sent, then silence', `${statusOf(shortAnswer.answer)} after ${(shortAnswer.ms / 1000).toFixed(1)} s`, `408 within ${(REQUEST_TIMEOUT_MS + TIMEOUT_SLACK_MS) / 1000} s`, statusOf(shortAnswer.answer) === 408 && shortAnswer.ms <= REQUEST_TIMEOUT_MS + TIMEOUT_SLACK_MS);
    const slow = await Promise.all(slowloris.map(({ done }) => done));
    const slowest = Math.max(...slow.map(({ ms }) => ms));
    const slow408 = slow.filter(({ answer }) => statusOf(answer) === 408).length;
    expect('2,000 connections sending headers at 1 byte/s', `${slow408} answered 408 and closed, the last after ${(slowest / 1000).toFixed(1)} s`, `all, within ${(HEADERS_TIMEOUT_MS + TIMEOUT_SLACK_MS) / 1000} s`, slow408 === slow.length && slowest <= HEADERS_TIMEOUT_MS + TIMEOUT_SLACK_MS);

    // Uploads abandoned mid-body: nobody reads the answer, so the server's own count must show 4xx.
    const before = (await readCountedStatuses(server))['POST /predict 400'] ?? 0;
    await Promise.all([
      sendRaw(port, ['POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', `40\r\n${bodies.single.slice(0, 64)}\r\n`], { abortAfterMs: 100 }).done,
      sendRaw(port, [`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${bodies.batch100.length}\r\n\r\n${bodies.batch100.slice(0, 1000)}`], { abortAfterMs: 100 }).done,
    ]);
    await sleep(200);
    const after = (await readCountedStatuses(server))['POST /predict 400'] ?? 0;
    expect('2 uploads abandoned mid-body (chunked, sized)', `${after - before} more counted as 400`, '2 more 400s', after - before === 2);
    return [...checks, ...(await checkNo5xx(scenario, server))];
  } finally {
    await stopServer(server);
  }
}

const OVERLOAD_CONNECTIONS = 2000;
const OVERLOAD_SECONDS = 15;
/** Twenty times as often as the kubelet's 10 s, so a restart-worthy stretch cannot slip between probes. */
const PROBE_INTERVAL_MS = 500;

/** 2,000 wrk connections posting 100-customer batches while a kubelet-like probe checks liveness and readiness. */
async function runOverload(bodies: Bodies): Promise<Check[]> {
  const scenario = 'overload';
  if (spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error !== undefined) {
    return [{ scenario, check: 'wrk installed', measured: 'missing (apt-get install wrk)', threshold: 'present', passed: false }];
  }
  // Server and load generator on different cores, as far as two cores allow.
  const server = await startServer({ logPath: 'bench/results/chaos-overload.log', cpus: '0' });
  const script = 'bench/results/chaos-overload.lua';
  await writeFile(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[${bodies.batch100}]==]\n`);
  try {
    const wrk = spawn('taskset', ['-c', '1', 'wrk', '-t1', `-c${OVERLOAD_CONNECTIONS}`, `-d${OVERLOAD_SECONDS}s`, '--timeout', '5s', '-s', script, `${server.url}/predict`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let wrkOutput = '';
    wrk.stdout.on('data', (chunk) => (wrkOutput += chunk));
    wrk.stderr.on('data', (chunk) => (wrkOutput += chunk));
    let wrkRunning = true;
    const wrkDone = new Promise<void>((resolve) => wrk.once('exit', () => resolve()));
    void wrkDone.then(() => (wrkRunning = false));
    const killer = setTimeout(() => wrk.kill('SIGKILL'), (OVERLOAD_SECONDS + 30) * 1000);
    const liveness = { probes: 0, ok: 0, worstMs: 0, failuresInARow: 0, mostInARow: 0 };
    let ready503 = 0;
    let peakRss = 0;
    while (wrkRunning) {
      const [live, ready] = await Promise.all([send(server.port, { path: '/health', timeoutMs: LIVENESS_TIMEOUT_MS }), send(server.port, { path: '/ready', timeoutMs: LIVENESS_TIMEOUT_MS }), sleep(PROBE_INTERVAL_MS)]);
      peakRss = Math.max(peakRss, readRssBytes(server.pid));
      liveness.probes++;
      liveness.worstMs = Math.max(liveness.worstMs, live.ms);
      if (live.status === 200) {
        liveness.ok++;
        liveness.failuresInARow = 0;
      } else liveness.mostInARow = Math.max(liveness.mostInARow, ++liveness.failuresInARow);
      if (ready.status === 503) ready503++;
    }
    clearTimeout(killer);
    await wrkDone;
    let readyAgainMs = Number.POSITIVE_INFINITY;
    const loadEnded = performance.now();
    while (performance.now() - loadEnded < 5000) {
      if ((await send(server.port, { path: '/ready', timeoutMs: 1000 })).status === 200) {
        readyAgainMs = performance.now() - loadEnded;
        break;
      }
      await sleep(100);
    }
    const counts = await readCountedStatuses(server);
    const served = counts['POST /predict 200'] ?? 0;
    const shed = counts['POST /predict 503'] ?? 0;
    // When wrk stops it closes its 2,000 connections: requests still reading their body or waiting for their turn
    // end as incomplete_body or client_closed_request, logged, answered to nobody. Anything else is a failure.
    const abandoned = countLogged(server, /"status":400,.*"error":"(incomplete_body|client_closed_request)"/);
    const other = Object.entries(counts).filter(([key]) => key.startsWith('POST /predict') && !/ (200|503)$/.test(key) && !(key.endsWith(' 400') && counts[key] === abandoned));
    const wrkSummary = /Requests\/sec:\s+([\d.]+)/.exec(wrkOutput)?.[1] ?? '?';
    return [
      { scenario, check: `liveness probe (GET /health, new connection, ${LIVENESS_TIMEOUT_MS} ms timeout) every ${PROBE_INTERVAL_MS} ms`, measured: `${liveness.ok}/${liveness.probes} answered, slowest ${liveness.worstMs.toFixed(0)} ms, ${liveness.mostInARow} failures in a row at most`, threshold: `< ${LIVENESS_FAILURE_THRESHOLD} failures in a row`, passed: liveness.probes > 0 && liveness.mostInARow < LIVENESS_FAILURE_THRESHOLD },
      {
        scenario,
        check: 'requests under 2,000 connections',
        measured: `${served} answered 200, ${shed} refused 503 (wrk ${wrkSummary} req/s); ${abandoned} left unfinished when wrk closed its connections${other.length === 0 ? '' : `; other: ${other.map(([key, n]) => `${key} ${n}`).join(', ')}`}`,
        threshold: 'only 200 or 503 answered',
        passed: served > 0 && other.length === 0,
      },
      { scenario, check: '/ready while shedding, then after the load', measured: `503 on ${ready503} probes; 200 again ${Number.isFinite(readyAgainMs) ? `${readyAgainMs.toFixed(0)} ms` : 'never'} after`, threshold: '503 while shedding, 200 within 2 s after', passed: (shed === 0 || ready503 > 0) && readyAgainMs <= 2000 },
      { scenario, check: 'peak RSS', measured: mib(peakRss), threshold: `< ${mib(MEMORY_LIMIT_BYTES)}`, passed: peakRss < MEMORY_LIMIT_BYTES },
      ...(await checkNo5xx(scenario, server)),
    ];
  } finally {
    await stopServer(server);
  }
}

const SCENARIOS: Record<string, (bodies: Bodies) => Promise<Check[]>> = {
  'parked-bodies': runParkedBodies,
  'invalid-cost': runInvalidCost,
  'no-5xx': runNo5xx,
  overload: runOverload,
};

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'no-build': { type: 'boolean', default: false }, only: { type: 'string' } } });
  const names = values.only === undefined ? Object.keys(SCENARIOS) : values.only.split(',');
  for (const name of names) if (!(name in SCENARIOS)) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  if (!values['no-build']) spawnSync(process.execPath, ['build.ts'], { stdio: 'inherit' });
  await mkdir('bench/results', { recursive: true });
  const bodies = await readBodies();
  const checks: Check[] = [];
  for (const name of names) {
    const started = performance.now();
    out(`== ${name}`);
    const results = await SCENARIOS[name]!(bodies);
    for (const check of results) out(`${check.passed ? 'ok  ' : 'FAIL'} ${check.check}: ${check.measured} (threshold ${check.threshold})`);
    out(`   (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    checks.push(...results);
  }
  const table = [
    `# Chaos suite (${new Date().toISOString().slice(0, 10)}, \`npm run chaos\`)`,
    '',
    '| scenario | check | measured | threshold | result |',
    '|---|---|---|---|---|',
    ...checks.map((c) => `| ${c.scenario} | ${c.check} | ${c.measured} | ${c.threshold} | ${c.passed ? 'pass' : '**FAIL**'} |`),
    '',
  ].join('\n');
  await writeFile(RESULTS_PATH, table);
  const failed = checks.filter((check) => !check.passed).length;
  out(`chaos: ${checks.length - failed} passed, ${failed} failed (table in ${RESULTS_PATH})`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`chaos: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
