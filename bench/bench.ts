// Benchmark: this service against the limit (a bare node:http server) and the peer (FastAPI +
// scikit-learn), measured in one run on this machine, each server pinned to core 0 and the load
// generator (wrk) to core 1, with the same request bodies. Ratios to the bare server are the figures
// that mean something on a shared, noisy machine.
// Run: npm run bench [-- --quick] [-- --no-peer] [-- --no-floor] [-- --rounds N --seconds S]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDataset } from '../training/dataset.ts';

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-peer': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'cold-starts': { type: 'string' },
  },
});
const ROUNDS = Number(options.rounds ?? (options.quick ? 1 : 3));
const SECONDS = Number(options.seconds ?? (options.quick ? 3 : 10));
const COLD_STARTS = Number(options['cold-starts'] ?? (options.quick ? 5 : 11));
const CONNECTIONS = 10;
const BATCH_CONNECTIONS = 4;
const BATCH_SIZE = 1000;
const SERVER_CPU = '0';
const LOAD_CPU = '1';

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

interface ServerSpec {
  id: 'bare' | 'floor' | 'service' | 'fastapi';
  label: string;
  command: (port: number) => string[];
  env: Record<string, string>;
}

const node = process.execPath;
const SERVERS: ServerSpec[] = [
  { id: 'bare', label: 'bare node:http (the limit)', command: () => [node, 'bench/bare-server.mjs'], env: {} },
  { id: 'floor', label: 'Hono + node-server, no work (the framework floor)', command: () => [node, 'bench/hono-floor.mjs'], env: {} },
  // The service runs as the image and npm start run it (see the Dockerfile's CMD).
  { id: 'service', label: 'this service (dist/main.cjs)', command: () => [node, '--max-semi-space-size=8', 'dist/main.cjs'], env: { LOG_LEVEL: 'info' } },
  { id: 'fastapi', label: 'FastAPI + scikit-learn (peer)', command: (port) => ['bench/fastapi/run.sh', String(port)], env: {} },
];

function requireTool(name: string, hint: string): void {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0) {
    process.stderr.write(`bench: ${name} is required (${hint})\n`);
    process.exit(2);
  }
}

let logFd: number | undefined;

/**
 * Start a server pinned to the server core. Its output goes to a file, as a container runtime
 * writes it: a pipe drained by this process would slow the server whenever wrk keeps this core busy.
 */
function startServer(spec: ServerSpec, port: number): ChildProcess {
  return spawn('taskset', ['-c', SERVER_CPU, ...spec.command(port)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), ...spec.env },
    stdio: ['ignore', logFd!, logFd!],
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** POST a body with node:http (cheap, so the poll does not slow the measurement); resolves with the status, or 0 if refused. */
function post(port: number, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/predict', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Milliseconds from spawning the process to its first 200 answer to /predict. */
async function measureColdStart(spec: ServerSpec, port: number, body: string): Promise<number> {
  const started = performance.now();
  const child = startServer(spec, port);
  try {
    for (;;) {
      if ((await post(port, body)) === 200) return performance.now() - started;
      if (child.exitCode !== null) throw new Error(`${spec.id} exited with ${child.exitCode} before answering`);
      if (performance.now() - started > 60_000) throw new Error(`${spec.id} did not answer within 60 s`);
      await sleep(1);
    }
  } finally {
    await stopServer(child);
  }
}

async function waitUntilServing(child: ChildProcess, spec: ServerSpec, port: number, body: string): Promise<void> {
  const started = performance.now();
  while ((await post(port, body)) !== 200) {
    if (child.exitCode !== null || performance.now() - started > 60_000) throw new Error(`${spec.id} did not start`);
    await sleep(5);
  }
}

function readRssMiB(pid: number): number {
  const status = spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }).stdout;
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function parseLatencyMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** Run wrk on the load core at fixed concurrency and parse its summary. */
function runWrk(port: number, script: string, connections: number, seconds: number): LoadResult {
  const result = spawnSync('taskset', ['-c', LOAD_CPU, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, `http://127.0.0.1:${port}/predict`], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  const text = result.stdout;
  const errorsMatch = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p50Ms: parseLatencyMs(/^\s+50%\s+(\S+)/m.exec(text)?.[1] ?? ''),
    p99Ms: parseLatencyMs(/^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? ''),
    errors: Number(errorsMatch?.[1] ?? 0) + (socketErrors === null ? 0 : socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0)),
  };
}

async function writeWrkScript(dir: string, name: string, body: string): Promise<string> {
  if (body.includes(']==]')) throw new Error('body cannot be embedded in a Lua long string');
  const path = join(dir, `${name}.lua`);
  await writeFile(path, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[${body}]==]\n`);
  return path;
}

interface Figures {
  label: string;
  coldStartMs: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  instancesPerSecond: number;
  batchP99Ms: number;
  rssMiB: number;
  errors: number;
}

async function main(): Promise<void> {
  requireTool('wrk', 'Debian/Ubuntu: apt-get install wrk');
  requireTool('taskset', 'util-linux');
  if (cpus().length < 2) throw new Error('the benchmark needs two cores: one for the server, one for the load generator');

  out('building the service (npm run build)');
  if (spawnSync(node, ['build.ts'], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');
  const servers = SERVERS.filter((spec) => !(spec.id === 'fastapi' && options['no-peer']) && !(spec.id === 'floor' && options['no-floor']));
  if (servers.some((spec) => spec.id === 'fastapi')) {
    out('setting up the FastAPI peer (bench/fastapi/setup.sh)');
    if (spawnSync('bench/fastapi/setup.sh', { stdio: 'inherit' }).status !== 0) {
      out('FastAPI peer unavailable (no Python 3.11+?); measuring without it');
      servers.splice(servers.findIndex((spec) => spec.id === 'fastapi'), 1);
    }
  }

  const customers = (await readDataset('training/data/telco-churn.csv')).instances;
  const single = JSON.stringify({ instances: [customers[0]] });
  const batch = JSON.stringify({ instances: customers.slice(0, BATCH_SIZE) });
  const dir = await mkdtemp(join(tmpdir(), 'bench-'));
  logFd = openSync(join(dir, 'servers.log'), 'a');
  const singleScript = await writeWrkScript(dir, 'single', single);
  const batchScript = await writeWrkScript(dir, 'batch', batch);
  let port = 18_000;

  const cold = new Map<string, number[]>();
  out(`cold start: spawn to first 200 from /predict, ${COLD_STARTS} times each`);
  for (let i = 0; i < COLD_STARTS; i++) {
    for (const spec of servers) {
      const ms = await measureColdStart(spec, port++, single);
      cold.set(spec.id, [...(cold.get(spec.id) ?? []), ms]);
    }
  }

  const load = new Map<string, { single: LoadResult[]; batch: LoadResult[]; rss: number[] }>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const spec of servers) {
      out(`round ${round}/${ROUNDS}: ${spec.label}`);
      const serverPort = port++;
      const child = startServer(spec, serverPort);
      try {
        await waitUntilServing(child, spec, serverPort, single);
        runWrk(serverPort, singleScript, CONNECTIONS, Math.min(2, SECONDS)); // warm-up
        const singleResult = runWrk(serverPort, singleScript, CONNECTIONS, SECONDS);
        runWrk(serverPort, batchScript, BATCH_CONNECTIONS, Math.min(2, SECONDS)); // warm-up
        const batchResult = runWrk(serverPort, batchScript, BATCH_CONNECTIONS, SECONDS);
        const entry = load.get(spec.id) ?? { single: [], batch: [], rss: [] };
        entry.single.push(singleResult);
        entry.batch.push(batchResult);
        entry.rss.push(readRssMiB(child.pid!));
        load.set(spec.id, entry);
      } finally {
        await stopServer(child);
      }
    }
  }

  const figures = new Map<string, Figures>();
  for (const spec of servers) {
    const entry = load.get(spec.id)!;
    figures.set(spec.id, {
      label: spec.label,
      coldStartMs: median(cold.get(spec.id)!),
      requestsPerSecond: median(entry.single.map((r) => r.requestsPerSecond)),
      p50Ms: median(entry.single.map((r) => r.p50Ms)),
      p99Ms: median(entry.single.map((r) => r.p99Ms)),
      instancesPerSecond: median(entry.batch.map((r) => r.requestsPerSecond)) * BATCH_SIZE,
      batchP99Ms: median(entry.batch.map((r) => r.p99Ms)),
      rssMiB: median(entry.rss),
      errors: [...entry.single, ...entry.batch].reduce((sum, r) => sum + r.errors, 0),
    });
  }

  const bare = figures.get('bare')!;
  const service = figures.get('service')!;
  const peer = figures.get('fastapi');
  const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
  const rows = [...figures.values()].map(
    (f) =>
      `| ${f.label} | ${fmt(f.requestsPerSecond)} (${ratio(f.requestsPerSecond, bare.requestsPerSecond)}) | ${fmt(f.p50Ms, 2)} | ${fmt(f.p99Ms, 2)} (${ratio(f.p99Ms, bare.p99Ms)}) | ${fmt(f.instancesPerSecond)} (${ratio(f.instancesPerSecond, bare.instancesPerSecond)}) | ${fmt(f.coldStartMs, 1)} (${ratio(f.coldStartMs, bare.coldStartMs)}) | ${fmt(f.rssMiB, 1)} (${ratio(f.rssMiB, bare.rssMiB)}) | ${f.errors} |`,
  );
  const targets: [string, boolean, string][] = [
    ['throughput ≥ 0.6× bare', service.requestsPerSecond / bare.requestsPerSecond >= 0.6, ratio(service.requestsPerSecond, bare.requestsPerSecond)],
    ['p99 ≤ 2× bare', service.p99Ms / bare.p99Ms <= 2, ratio(service.p99Ms, bare.p99Ms)],
    ['cold start ≤ 2× bare', service.coldStartMs / bare.coldStartMs <= 2, ratio(service.coldStartMs, bare.coldStartMs)],
    ['memory ≤ 1.5× bare', service.rssMiB / bare.rssMiB <= 1.5, ratio(service.rssMiB, bare.rssMiB)],
  ];
  if (peer !== undefined) {
    targets.push(['throughput ≥ 10× FastAPI', service.requestsPerSecond / peer.requestsPerSecond >= 10, ratio(service.requestsPerSecond, peer.requestsPerSecond)]);
    targets.push(['batch instances/s vs FastAPI (no target)', true, ratio(service.instancesPerSecond, peer.instancesPerSecond)]);
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const markdown = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpu}, Node ${process.version}, by \`${command}\`:`,
    `${ROUNDS} round(s) of ${SECONDS} s per load, medians; cold start median of ${COLD_STARTS}. Server pinned to core ${SERVER_CPU}, wrk to core ${LOAD_CPU}.`,
    `Single: one customer per request, ${CONNECTIONS} connections. Batch: ${BATCH_SIZE} customers per request, ${BATCH_CONNECTIONS} connections.`,
    '',
    '| server | requests/s | p50 ms | p99 ms | batch instances/s | cold start ms | RSS after load MiB | errors |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '| target | met | measured |',
    '|---|---|---|',
    ...targets.map(([name, met, measured]) => `| ${name} | ${met ? 'yes' : '**no**'} | ${measured} |`),
  ].join('\n');
  out();
  out(markdown);
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/latest.md', `${markdown}\n`);
  await writeFile(
    'bench/results/latest.json',
    `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, cpu, node: process.version }, command, rounds: ROUNDS, seconds: SECONDS, figures: Object.fromEntries(figures), targets }, null, 2)}\n`,
  );
  out('\nwritten to bench/results/latest.md and latest.json');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

