// Benchmark: this service against the limit (a bare node:http server), the framework floor (Hono with no work)
// and a peer (FastAPI + scikit-learn), with a method meant to survive noisy neighbours:
//   - all servers run at once, pinned to the server core (idle ones cost nothing), and short loads alternate
//     between them, A B C D, B C D A, ... for many rounds, so a neighbour that slows one round slows every
//     server in it;
//   - every figure of the service is divided by the bare server's from the same round, and the report gives
//     the median of those ratios and their spread (lowest–highest) over the rounds;
//   - the primary cost figure is the server's CPU time per request: utime + stime from /proc/<pid>/stat over
//     the load, divided by the requests it answered. Time the server waited while other tenants ran is not
//     in it, unlike requests per second;
//   - cold starts alternate the same way; RSS is read once every load has run.
// wrk is pinned to the load core. Results land in bench/results/latest.md and latest.json.
// Run: npm run bench [-- --quick] [-- --rounds N --seconds S] [-- --no-peer] [-- --no-floor] [-- --also-version 1.0.0]
//                    [-- --also-env ACCESS_LOG=all ...] [-- --also-dist ../before/dist]
//                    [-- --also-flags=--max-semi-space-size=1 ...]
// (--also-version adds this service serving another committed version, e.g. the previous model, to compare models;
// each --also-env adds this service with one more setting, e.g. another access-log policy; --also-dist adds another
// build of it, e.g. of an earlier commit, to measure a change; each --also-flags adds it started with other Node
// flags (replacing the image's flag of the same name), to choose them. Each variant is measured
// in the same rounds and the service is divided by it round by round.)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readDataset } from '../training/dataset.ts';
import { SERVER_NODE_FLAGS, readCpuSeconds, readRssBytes, withServerFlags } from './spawn.ts';

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-peer': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'cold-starts': { type: 'string' },
    'also-version': { type: 'string' },
    'also-env': { type: 'string', multiple: true, default: [] },
    'also-dist': { type: 'string' },
    'also-flags': { type: 'string', multiple: true, default: [] },
  },
});
const ROUNDS = Number(options.rounds ?? (options.quick ? 4 : 12));
const SECONDS = Number(options.seconds ?? (options.quick ? 1 : 2));
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
  /** bare, floor, service, fastapi, or variant-N (the service with other settings). */
  id: string;
  label: string;
  command: (port: number) => string[];
  env: Record<string, string>;
}

const node = process.execPath;
const SERVERS: ServerSpec[] = [
  { id: 'bare', label: 'bare node:http (the limit)', command: () => [node, 'bench/bare-server.mjs'], env: {} },
  { id: 'floor', label: 'Hono + node-server, no work (the framework floor)', command: () => [node, 'bench/hono-floor.mjs'], env: {} },
  // The service runs as the image runs it (Dockerfile ENTRYPOINT and NODE_OPTIONS).
  { id: 'service', label: 'this service (dist/main.cjs)', command: () => [node, ...SERVER_NODE_FLAGS, 'dist/main.cjs'], env: { LOG_LEVEL: 'info' } },
  { id: 'fastapi', label: 'FastAPI + scikit-learn (peer)', command: (port) => ['bench/fastapi/run.sh', String(port)], env: {} },
];
/** The service with other settings, measured beside it: another model version, access-log policy, build or Node flags. */
const VARIANTS: { label: string; env: Record<string, string>; dist?: string; flags?: string[] }[] = [
  ...(options['also-version'] === undefined ? [] : [{ label: `serving ${options['also-version']}`, env: { MODEL_VERSION: options['also-version'] } }]),
  ...options['also-env'].map((setting) => {
    const [key, ...value] = setting.split('=');
    if (key === undefined || value.length === 0) throw new Error(`--also-env takes KEY=VALUE, not ${setting}`);
    return { label: `with ${setting}`, env: { [key]: value.join('=') } };
  }),
  // Another build serves this checkout's registry, so only the code differs.
  ...(options['also-dist'] === undefined ? [] : [{ label: `built in ${options['also-dist']}`, env: { MODEL_REGISTRY: resolve('model-registry') }, dist: options['also-dist'] }]),
  ...options['also-flags'].map((flags) => ({ label: `with ${flags}`, env: {}, flags: flags.split(' ') })),
];
SERVERS.splice(3, 0, ...VARIANTS.map(({ label, env, dist = 'dist', flags = [] }, i) => ({
  id: `variant-${i}`,
  label: `this service ${label}`,
  command: () => [node, ...withServerFlags(flags), join(dist, 'main.cjs')],
  env: { LOG_LEVEL: 'info', ...env },
})));

let logFd: number | undefined;

/**
 * Start a server pinned to the server core (taskset execs it, so the pid is the server's). Its output goes to a
 * file, as a container runtime writes it: a pipe drained by this process would slow the server.
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

/** POST a body with node:http; resolves with the status, or 0 if refused. */
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

async function waitUntilServing(child: ChildProcess, spec: ServerSpec, port: number, body: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if ((await post(port, body)) === 200) return performance.now() - started;
    if (child.exitCode !== null) throw new Error(`${spec.id} exited with ${child.exitCode} before answering`);
    if (performance.now() - started > 60_000) throw new Error(`${spec.id} did not answer within 60 s`);
    await sleep(1);
  }
}

/** Milliseconds from spawning the process to its first 200 answer to /predict. */
async function measureColdStart(spec: ServerSpec, port: number, body: string): Promise<number> {
  const child = startServer(spec, port);
  try {
    return await waitUntilServing(child, spec, port, body);
  } finally {
    await stopServer(child);
  }
}

/** One load on one server: what wrk saw and what the server spent. */
interface LoadSample {
  requests: number;
  requestsPerSecond: number;
  p99Ms: number;
  errors: number;
  /** Server CPU (user + system) per answered request, in microseconds. */
  cpuMicrosPerRequest: number;
}

function parseLatencyMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** Run wrk on the load core against a server and measure the server's CPU over the same interval. */
function runLoad(pid: number, port: number, script: string, connections: number, seconds: number): LoadSample {
  const cpuBefore = readCpuSeconds(pid);
  const result = spawnSync('taskset', ['-c', LOAD_CPU, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, `http://127.0.0.1:${port}/predict`], {
    encoding: 'utf8',
  });
  const cpu = readCpuSeconds(pid) - cpuBefore;
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  const text = result.stdout;
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const errorsMatch = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requests,
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p99Ms: parseLatencyMs(/^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? ''),
    errors: Number(errorsMatch?.[1] ?? 0) + (socketErrors === null ? 0 : socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0)),
    cpuMicrosPerRequest: requests === 0 ? Number.NaN : (cpu / requests) * 1e6,
  };
}

async function writeWrkScript(dir: string, name: string, body: string): Promise<string> {
  if (body.includes(']==]')) throw new Error('body cannot be embedded in a Lua long string');
  const path = join(dir, `${name}.lua`);
  await writeFile(path, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[${body}]==]\n`);
  return path;
}

/** A figure of one server in every round, and how the report reads it. */
interface Metric {
  key: string;
  label: string;
  /** higher is better (throughput) or lower is better (costs, latency). */
  better: 'higher' | 'lower';
  get: (round: RoundSamples) => number;
}

interface RoundSamples {
  single: LoadSample;
  batch: LoadSample;
}

const METRICS: Metric[] = [
  { key: 'cpuPerRequest', label: 'server CPU per single-customer request (µs)', better: 'lower', get: (r) => r.single.cpuMicrosPerRequest },
  { key: 'requestsPerSecond', label: 'single-customer requests/s', better: 'higher', get: (r) => r.single.requestsPerSecond },
  { key: 'p99', label: 'single-customer p99 (ms)', better: 'lower', get: (r) => r.single.p99Ms },
  { key: 'cpuPerBatch', label: `server CPU per ${BATCH_SIZE}-customer batch (ms)`, better: 'lower', get: (r) => r.batch.cpuMicrosPerRequest / 1000 },
  { key: 'instancesPerSecond', label: 'batch instances/s', better: 'higher', get: (r) => r.batch.requestsPerSecond * BATCH_SIZE },
];

/** Median and spread of a list of per-round values. */
interface Spread {
  median: number;
  low: number;
  high: number;
}
const spreadOf = (values: number[]): Spread => ({ median: median(values), low: Math.min(...values), high: Math.max(...values) });

async function main(): Promise<void> {
  for (const [tool, hint] of [
    ['wrk', 'apt-get install wrk'],
    ['taskset', 'util-linux'],
  ] as const) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is required (${hint})`);
  }
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
  let port = 18_000 + Math.floor(Math.random() * 1000) * 10;
  const rotate = <T>(items: T[], by: number) => items.map((_, i) => items[(i + by) % items.length]!);

  const cold = new Map<string, number[]>(servers.map((spec) => [spec.id, []]));
  out(`cold start: spawn to first 200 from /predict, ${COLD_STARTS} times each, alternating`);
  for (let i = 0; i < COLD_STARTS; i++) {
    for (const spec of rotate(servers, i)) cold.get(spec.id)!.push(await measureColdStart(spec, port++, single));
  }

  const running = new Map<string, { child: ChildProcess; port: number }>();
  const rounds = new Map<string, RoundSamples[]>(servers.map((spec) => [spec.id, []]));
  const rss = new Map<string, number>();
  try {
    for (const spec of servers) {
      const serverPort = port++;
      const child = startServer(spec, serverPort);
      running.set(spec.id, { child, port: serverPort });
      await waitUntilServing(child, spec, serverPort, single);
      // Warm-up: JIT and heap settle before anything is measured.
      runLoad(child.pid!, serverPort, singleScript, CONNECTIONS, 2);
      runLoad(child.pid!, serverPort, batchScript, BATCH_CONNECTIONS, 2);
    }
    out(`${ROUNDS} rounds of ${SECONDS} s per load and server, alternating: single (${CONNECTIONS} connections), batch of ${BATCH_SIZE} (${BATCH_CONNECTIONS})`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const spec of rotate(servers, round)) {
        const { child, port: serverPort } = running.get(spec.id)!;
        const singleSample = runLoad(child.pid!, serverPort, singleScript, CONNECTIONS, SECONDS);
        const batchSample = runLoad(child.pid!, serverPort, batchScript, BATCH_CONNECTIONS, SECONDS);
        rounds.get(spec.id)!.push({ single: singleSample, batch: batchSample });
      }
      out(`  round ${round + 1}/${ROUNDS}: ${servers.map((spec) => `${spec.id} ${Math.round(rounds.get(spec.id)!.at(-1)!.single.cpuMicrosPerRequest)} µs/request`).join(', ')}`);
    }
    for (const spec of servers) rss.set(spec.id, readRssBytes(running.get(spec.id)!.child.pid!) / 1024 / 1024);
  } finally {
    for (const { child } of running.values()) await stopServer(child);
  }

  // Per-round ratios against a reference server, then their median and spread.
  const ratiosTo = (reference: string, id: string, metric: Metric) => rounds.get(id)!.map((r, i) => metric.get(r) / metric.get(rounds.get(reference)![i]!));
  const absolute = (id: string, metric: Metric) => spreadOf(rounds.get(id)!.map(metric.get));
  const coldRatios = (id: string) => cold.get(id)!.map((ms, i) => ms / cold.get('bare')![i]!);
  const hasPeer = servers.some((spec) => spec.id === 'fastapi');
  const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const fmtSpread = (s: Spread, digits: number, suffix = '') => `${fmt(s.median, digits)}${suffix} (${fmt(s.low, digits)}–${fmt(s.high, digits)})`;
  const digitsOf = (metric: Metric) => (metric.key === 'p99' || metric.key === 'cpuPerBatch' ? 2 : 0);

  const absoluteRows = METRICS.map((metric) => `| ${metric.label} | ${servers.map((spec) => fmtSpread(absolute(spec.id, metric), digitsOf(metric))).join(' | ')} |`);
  absoluteRows.push(`| cold start, spawn to first answer (ms) | ${servers.map((spec) => fmtSpread(spreadOf(cold.get(spec.id)!), 1)).join(' | ')} |`);
  absoluteRows.push(`| RSS after every load (MiB) | ${servers.map((spec) => fmt(rss.get(spec.id)!, 1)).join(' | ')} |`);
  absoluteRows.push(`| errors (non-2xx, socket) | ${servers.map((spec) => String(rounds.get(spec.id)!.reduce((sum, r) => sum + r.single.errors + r.batch.errors, 0))).join(' | ')} |`);

  const serviceVsBare = Object.fromEntries(METRICS.map((metric) => [metric.key, spreadOf(ratiosTo('bare', 'service', metric))]));
  const coldVsBare = spreadOf(coldRatios('service'));
  const rssVsBare = rss.get('service')! / rss.get('bare')!;
  const requestsPerSecond = METRICS.find((metric) => metric.key === 'requestsPerSecond')!;
  const serviceVsPeer = hasPeer ? spreadOf(ratiosTo('fastapi', 'service', requestsPerSecond)) : undefined;
  // What the 10× target asks of any Node server: the limit's and the framework floor's own multiple of the peer, same rounds.
  const limitsVsPeer = hasPeer
    ? Object.fromEntries(servers.filter((spec) => spec.id === 'bare' || spec.id === 'floor').map((spec) => [spec.id, spreadOf(ratiosTo('fastapi', spec.id, requestsPerSecond))]))
    : undefined;
  // The same ratios for the framework floor: how much of a target the stack itself takes in the same rounds.
  const hasFloor = servers.some((spec) => spec.id === 'floor');
  const floorVsBare = hasFloor ? Object.fromEntries(METRICS.map((metric) => [metric.key, spreadOf(ratiosTo('bare', 'floor', metric))])) : undefined;
  const ratioRows = METRICS.map((metric) => `| ${metric.label}, ÷ bare | ${fmtSpread(serviceVsBare[metric.key]!, 2, '×')} |`);
  if (floorVsBare !== undefined) {
    for (const metric of METRICS) ratioRows.push(`| the framework floor's ${metric.label}, ÷ bare (for comparison) | ${fmtSpread(floorVsBare[metric.key]!, 2, '×')} |`);
  }
  ratioRows.push(`| cold start, ÷ bare | ${fmtSpread(coldVsBare, 2, '×')} |`);
  ratioRows.push(`| RSS after every load, ÷ bare | ${rssVsBare.toFixed(2)}× |`);
  if (serviceVsPeer !== undefined) ratioRows.push(`| single-customer requests/s, ÷ FastAPI | ${fmtSpread(serviceVsPeer, 1, '×')} |`);
  for (const [id, spread] of Object.entries(limitsVsPeer ?? {})) {
    ratioRows.push(`| ${id === 'bare' ? 'bare node:http' : 'the framework floor'}'s single-customer requests/s, ÷ FastAPI (for comparison) | ${fmtSpread(spread, 1, '×')} |`);
  }
  const serviceVsVariants = VARIANTS.map(({ label }, i) => ({
    label,
    ratios: Object.fromEntries(METRICS.map((metric) => [metric.key, spreadOf(ratiosTo(`variant-${i}`, 'service', metric))])),
  }));
  for (const { label, ratios } of serviceVsVariants) {
    for (const metric of METRICS) ratioRows.push(`| ${metric.label}, ÷ this service ${label} | ${fmtSpread(ratios[metric.key]!, 2, '×')} |`);
  }

  const targets: [string, boolean, string][] = [
    ['server CPU per single-customer request ≤ 2.0× bare', serviceVsBare.cpuPerRequest!.median <= 2, `${serviceVsBare.cpuPerRequest!.median.toFixed(2)}×`],
    ['single-customer throughput ≥ 0.5× bare', serviceVsBare.requestsPerSecond!.median >= 0.5, `${serviceVsBare.requestsPerSecond!.median.toFixed(2)}×`],
    ['p99 ≤ 2× bare', serviceVsBare.p99!.median <= 2, `${serviceVsBare.p99!.median.toFixed(2)}×`],
    ['batch instances/s ≥ 0.6× bare', serviceVsBare.instancesPerSecond!.median >= 0.6, `${serviceVsBare.instancesPerSecond!.median.toFixed(2)}×`],
    ['cold start ≤ 2× bare', coldVsBare.median <= 2, `${coldVsBare.median.toFixed(2)}×`],
    ['RSS ≤ 1.5× bare', rssVsBare <= 1.5, `${rssVsBare.toFixed(2)}×`],
  ];
  if (serviceVsPeer !== undefined) targets.push(['single-customer throughput ≥ 10× FastAPI', serviceVsPeer.median >= 10, `${serviceVsPeer.median.toFixed(1)}×`]);

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const markdown = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} × ${cpu}, Node ${process.version}, by \`${command}\`:`,
    `${ROUNDS} rounds of ${SECONDS} s per load and server, servers alternating in rotated order; cold start ${COLD_STARTS} times each, alternating.`,
    `Servers pinned to core ${SERVER_CPU}, wrk to core ${LOAD_CPU}. Single: one customer per request, ${CONNECTIONS} connections. Batch: ${BATCH_SIZE} customers, ${BATCH_CONNECTIONS} connections.`,
    `Each cell: median over rounds (lowest–highest). Ratios are taken round by round against the server measured in the same round.`,
    '',
    `| | ${servers.map((spec) => spec.label).join(' | ')} |`,
    `|---|${servers.map(() => '---').join('|')}|`,
    ...absoluteRows,
    '',
    '| this service, ratio taken round by round | median (lowest–highest) |',
    '|---|---|',
    ...ratioRows,
    '',
    '| target | met | median |',
    '|---|---|---|',
    ...targets.map(([name, met, measured]) => `| ${name} | ${met ? 'yes' : '**no**'} | ${measured} |`),
  ].join('\n');
  out();
  out(markdown);
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/latest.md', `${markdown}\n`);
  await writeFile(
    'bench/results/latest.json',
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpus: cpus().length, cpu, node: process.version },
        command,
        rounds: Object.fromEntries(rounds),
        coldStartMs: Object.fromEntries(cold),
        rssMiB: Object.fromEntries(rss),
        serviceVsBare,
        coldVsBare,
        serviceVsPeer,
        limitsVsPeer,
        floorVsBare,
        serviceVsVariants,
        targets,
      },
      null,
      2,
    )}\n`,
  );
  out('\nwritten to bench/results/latest.md and latest.json');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
