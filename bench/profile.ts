// Where a /predict request's time goes: builds an unminified bundle (function names intact), runs it with the
// image's Node flags under --cpu-prof and --trace-gc, pinned to core 0 while wrk (core 1) sends single-customer
// requests, then prints the CPU time of the busy samples by source module and by a few functions of interest,
// inclusive, and how many collections of each kind ran.
// Run: npm run bench:profile [-- --seconds S] [-- --instances 1000 (a batch of the data set's first customers)]
//                            [-- --flags=--initial-old-space-size=0 (in place of the image's flag of that name)]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { readDataset } from '../training/dataset.ts';
import { withServerFlags } from './spawn.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, instances: { type: 'string', default: '1' }, flags: { type: 'string', multiple: true, default: [] } },
});
const PORT = 18_900;
const INSTANCES = Number(values.instances);
const SINGLE = JSON.stringify({
  instances: [
    {
      female: 1, senior_citizen: 0, partner: 1, dependents: 0, tenure: 1, phone_service: 0, multiple_lines: 'No phone service',
      internet_service: 'DSL', online_security: 'No', online_backup: 'Yes', device_protection: 'No', tech_support: 'No',
      streaming_tv: 'No', streaming_movies: 'No', contract: 'Month-to-month', paperless_billing: 1, payment_method: 'Electronic check',
      monthly_charges: 29.85, total_charges: 29.85,
    },
  ],
});
const BODY = INSTANCES === 1 ? SINGLE : JSON.stringify({ instances: (await readDataset('training/data/telco-churn.csv')).instances.slice(0, INSTANCES) });
/** Functions whose inclusive share is printed: the request path's stages. */
const STAGES = ['parserOnIncoming', 'dispatch', 'validateBatch', 'safeParse', 'predictCodes', 'recordPredictions', 'formatPredictions', 'respond', 'recordRequest', 'info', 'responseViaCache', 'writeUtf8String', '(garbage collector)'];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const dir = await mkdtemp(join(tmpdir(), 'profile-'));
const bundle = join(dir, 'server.cjs');
await build({
  entryPoints: ['functions/server.ts'],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  define: { 'import.meta.url': '__import_meta_url', 'import.meta.main': 'true' },
  banner: { js: `const __import_meta_url = ${JSON.stringify(new URL('../functions/server.ts', import.meta.url).href)};` },
  logLevel: 'warning',
});
await writeFile(join(dir, 'body.lua'), `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[${BODY}]==]\n`);

const logFd = (await import('node:fs')).openSync(join(dir, 'server.log'), 'a');
const server = spawn('taskset', ['-c', '0', process.execPath, ...withServerFlags(values.flags), '--trace-gc', '--cpu-prof', `--cpu-prof-dir=${dir}`, bundle], {
  env: { PATH: process.env.PATH ?? '', PORT: String(PORT) },
  stdio: ['ignore', logFd, logFd],
});
const ready = () =>
  new Promise<boolean>((resolve) => {
    request({ host: '127.0.0.1', port: PORT, path: '/ready' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    })
      .on('error', () => resolve(false))
      .end();
  });
while (!(await ready())) await new Promise((done) => setTimeout(done, 20));
const wrk = spawnSync('taskset', ['-c', '1', 'wrk', '-t1', `-c${INSTANCES === 1 ? 10 : 4}`, `-d${values.seconds}s`, '-s', join(dir, 'body.lua'), `http://127.0.0.1:${PORT}/predict`], { encoding: 'utf8' });
const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout)?.[1]);
server.kill('SIGTERM');
await new Promise((done) => server.once('exit', done));

const profileFile = (await readdir(dir)).find((name) => name.endsWith('.cpuprofile'))!;
const profile = JSON.parse(await readFile(join(dir, profileFile), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

// esbuild marks each bundled module with a `// path` comment: map bundle lines to their source module.
const lines = (await readFile(bundle, 'utf8')).split('\n');
const modules: string[] = [];
let current = '(bundle)';
lines.forEach((line, index) => {
  const match = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/.exec(line);
  // Dependencies are grouped by package; this project's modules keep their path.
  if (match !== null) current = match[1]!.startsWith('node_modules/') ? match[1]!.slice(13).replace(/^(@[^/]+\/[^/]+|[^/]+)\/.*$/, '$1') : match[1]!;
  modules[index] = current;
});
const bySource = new Map<string, number>();
const inclusive = new Map(STAGES.map((name) => [name, 0]));
let busy = 0;
profile.samples.forEach((id, i) => {
  const node = nodes.get(id)!;
  if (node.callFrame.functionName === '(idle)') return;
  const delta = profile.timeDeltas[i] ?? 0;
  busy += delta;
  const { url, lineNumber, functionName } = node.callFrame;
  const source = url.endsWith('server.cjs') ? modules[lineNumber]! : url.startsWith('node:') ? 'node internals' : functionName || '(native)';
  bySource.set(source, (bySource.get(source) ?? 0) + delta);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const name = nodes.get(at)!.callFrame.functionName;
    if (inclusive.has(name) && !seen.has(name)) {
      seen.add(name);
      inclusive.set(name, inclusive.get(name)! + delta);
    }
  }
});
const requests = rps * Number(values.seconds);
const microseconds = (time: number) => `${(time / requests).toFixed(2).padStart(6)} µs`;
const out = (line: string) => process.stdout.write(`${line}\n`);
out(`${rps.toFixed(0)} requests/s; busy CPU per request ${microseconds(busy)} (profile: ${join(dir, profileFile)})`);
out('\nself time by source, per request:');
for (const [source, time] of [...bySource].sort((a, b) => b[1] - a[1]).slice(0, 15)) out(`  ${microseconds(time)}  ${source}`);
out('\ninclusive time of request-path stages, per request:');
for (const [name, time] of inclusive) out(`  ${microseconds(time)}  ${name}`);
// --trace-gc lines in the server's log, from start to exit (the load is most of them).
const log = await readFile(join(dir, 'server.log'), 'utf8');
const collections = (kind: string) => log.split('\n').filter((line) => line.includes(`: ${kind} `)).length;
out(`\ncollections while it ran: ${collections('Mark-Compact')} mark-compact, ${collections('Scavenge')} scavenge, over ${requests.toFixed(0)} requests (${withServerFlags(values.flags).join(' ')})`);
