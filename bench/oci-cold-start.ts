// Cold start from a local OCI registry against the baked registry: the same build (dist/main.cjs) serving the same
// version (the committed production model), once read from model-registry/ and once pulled from CNCF Distribution on
// 127.0.0.1 (pushed by .ci/push-model.sh, as CI pushes it), pinned by both digests. Starts are interleaved, the order
// alternating each round, the server pinned to core 0 and the registry to core 1, so drift on a shared machine hits
// both alike. Cold start = spawn to the first 200 from /predict, as `npm run bench` measures it; the server's own
// `ready` log line gives the load phases.
// Run: npm run bench:oci-cold-start [-- --rounds N]   (needs bash .ci/oci-tools.sh; writes bench/results/oci-cold-start.*)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadVersion } from '../lib/registry/registry.ts';
import { createDirectorySource } from '../lib/registry/source.ts';
import { findOciTools, pushWithCiScript, startRegistry } from '../tests/oci-registry.ts';

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '11' }, 'no-build': { type: 'boolean', default: false } } });
const ROUNDS = Number(options.rounds);
/** The 1.5× budget of issue "pull pinned, verified model versions from an OCI registry at cold start". */
const MAX_RATIO = 1.5;
const SERVER_CPU = '0';
const REGISTRY_CPU = '1';
const PORT = 18_190;

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low]! + (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (at - low);
};
const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;
const pinned = (cpu: string, command: string[]) => (hasTaskset ? ['taskset', '-c', cpu, ...command] : command);

const tools = findOciTools();
if (tools === undefined) {
  process.stderr.write('bench: the OCI tools are missing; run bash .ci/oci-tools.sh\n');
  process.exit(2);
}
if (!options['no-build']) spawnSync(process.execPath, ['build.ts'], { stdio: 'inherit' });

/** POST a body with node:http; resolves with the status, or 0 while nothing listens. */
function post(body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: PORT, path: '/predict', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

interface Start {
  ms: number;
  phases: Record<string, number>;
}

/** Spawn the built server with `env`, time it to its first 200 from /predict, stop it, and read its ready line. */
async function measureStart(env: Record<string, string>, body: string, logDir: string, run: number): Promise<Start> {
  const logPath = join(logDir, `run-${run}.log`);
  const log = openSync(logPath, 'w');
  const started = performance.now();
  const [command, ...args] = pinned(SERVER_CPU, [process.execPath, '--max-semi-space-size=8', 'dist/main.cjs']) as [string, ...string[]];
  const child: ChildProcess = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', PORT: String(PORT), ...env },
    stdio: ['ignore', log, log],
  });
  const exited = new Promise((done) => child.once('exit', done));
  try {
    for (;;) {
      if ((await post(body)) === 200) break;
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${readFileSync(logPath, 'utf8')}`);
      if (performance.now() - started > 30_000) throw new Error('the server did not answer within 30 s');
      await sleep(1);
    }
    const ms = performance.now() - started;
    child.kill('SIGTERM');
    await exited;
    const ready = readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, number | string>).find((line) => line.msg === 'ready')!;
    const phases = Object.fromEntries(['loadMs', 'resolveMs', 'downloadMs', 'verifyMs', 'compileMs', 'warmupMs', 'readyMs'].map((key) => [key, Number(ready[key])]));
    return { ms, phases };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

const name = 'telco-churn';
const production = await loadVersion(createDirectorySource('model-registry'), name, 'production');
const version = production.manifest.version;
const registry = await startRegistry(tools);
if (hasTaskset) spawnSync('taskset', ['-pc', REGISTRY_CPU, String(registry.pid)], { stdio: 'ignore' });
try {
  const pushed = pushWithCiScript(tools, `model-registry/${name}/${version}`, `${registry.host}/models/${name}:${version}`, { name, version, digest: production.digest });
  const body = readFileSync('chart/files/predict-request.json', 'utf8');
  const logDir = await mkdtemp(join(tmpdir(), 'oci-cold-start-'));
  const variants = {
    baked: { MODEL_VERSION: version, MODEL_DIGEST: production.digest },
    oci: { MODEL_REGISTRY: registry.location, MODEL_REGISTRY_PLAIN_HTTP: 'true', MODEL_VERSION: `${version}@${pushed['oci-digest']}`, MODEL_DIGEST: production.digest },
  };
  const results: Record<keyof typeof variants, Start[]> = { baked: [], oci: [] };
  // One start of each first, discarded: the first spawn pays for a cold page cache.
  await measureStart(variants.baked, body, logDir, -2);
  await measureStart(variants.oci, body, logDir, -1);
  out(`cold start: spawn to first 200 from /predict, ${ROUNDS} rounds, baked and OCI interleaved (order alternating)`);
  for (let round = 0; round < ROUNDS; round++) {
    const order: (keyof typeof variants)[] = round % 2 === 0 ? ['baked', 'oci'] : ['oci', 'baked'];
    for (const variant of order) results[variant].push(await measureStart(variants[variant], body, logDir, round * 2 + order.indexOf(variant)));
    out(`  round ${round + 1}: baked ${results.baked.at(-1)!.ms.toFixed(1)} ms, oci ${results.oci.at(-1)!.ms.toFixed(1)} ms`);
  }

  const summary = Object.fromEntries(
    Object.entries(results).map(([variant, starts]) => {
      const ms = starts.map((start) => start.ms);
      const phases = Object.fromEntries(Object.keys(starts[0]!.phases).map((key) => [key, quantile(starts.map((start) => start.phases[key]!), 0.5)]));
      return [variant, { medianMs: quantile(ms, 0.5), p25Ms: quantile(ms, 0.25), p75Ms: quantile(ms, 0.75), minMs: Math.min(...ms), maxMs: Math.max(...ms), phasesMs: phases }];
    }),
  ) as Record<keyof typeof variants, { medianMs: number; p25Ms: number; p75Ms: number; minMs: number; maxMs: number; phasesMs: Record<string, number> }>;
  const ratio = summary.oci.medianMs / summary.baked.medianMs;
  const row = (label: string, s: (typeof summary)['baked']) =>
    `| ${label} | ${s.medianMs.toFixed(1)} | ${s.p25Ms.toFixed(1)}–${s.p75Ms.toFixed(1)} | ${s.minMs.toFixed(1)}–${s.maxMs.toFixed(1)} | ${['resolveMs', 'downloadMs', 'verifyMs', 'compileMs', 'warmupMs'].map((key) => s.phasesMs[key]!.toFixed(1)).join(' | ')} | ${s.phasesMs.readyMs!.toFixed(1)} |`;
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:oci-cold-start\`, Node ${process.version}, ${ROUNDS} rounds, ${name} ${version} (${production.digest.slice(0, 19)}…).`,
    `Server pinned to core ${SERVER_CPU}${hasTaskset ? '' : ' (no taskset: not pinned)'}, Distribution to core ${REGISTRY_CPU}; medians of the phases from the server's ready line.`,
    '',
    '| registry | cold start median ms | p25–p75 ms | min–max ms | resolve | download | verify | compile | warm-up | process ready ms |',
    '|---|---|---|---|---|---|---|---|---|---|',
    row('baked (`/app/model-registry` equivalent)', summary.baked),
    row(`OCI (Distribution on 127.0.0.1, plain HTTP)`, summary.oci),
    '',
    `OCI / baked cold start (medians): **${ratio.toFixed(2)}×** (budget ${MAX_RATIO}×: ${ratio <= MAX_RATIO ? 'met' : '**not met**'})`,
  ];
  out();
  for (const line of lines) out(line);
  await writeFile('bench/results/oci-cold-start.md', `${lines.join('\n')}\n`);
  await writeFile('bench/results/oci-cold-start.json', `${JSON.stringify({ rounds: ROUNDS, node: process.version, ratio, summary, results }, null, 2)}\n`);
  if (ratio > MAX_RATIO) process.exitCode = 1;
} finally {
  await registry.stop();
}
