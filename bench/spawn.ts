// Start and measure a built server for the bench and chaos scripts: spawned with the image's Node flags,
// its log in a file (as a container runtime writes it), its memory and CPU read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The Node flags the image starts the server with under the chart's default 256 Mi limit (Dockerfile ENTRYPOINT, CMD and NODE_OPTIONS). */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--initial-old-space-size=48', '--max-old-space-size=128'];
/** The image's Node flags with `flags` in place of those of the same name (`--initial-old-space-size=0` is V8's default). */
export const withServerFlags = (flags: readonly string[]): string[] => [
  ...SERVER_NODE_FLAGS.filter((flag) => !flags.some((other) => other.split('=')[0] === flag.split('=')[0])),
  ...flags,
];
/** How long a server may take from spawn to logging that it is ready. */
const READY_TIMEOUT_MS = 30_000;
/** How long a server may drain after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

/** A spawned server: its process, URL and log file; `exited` resolves with its exit code or signal. */
export interface SpawnedServer {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  logPath: string;
  exited: Promise<number | string>;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The last lines of a log file, for failure messages. */
export async function readLogTail(path: string, count = 20): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/**
 * Spawn `dist/main.cjs` (build it first) on a free port with `env`, optionally pinned to CPUs with taskset,
 * and resolve once it logs `ready`.
 */
export async function startServer({ env = {}, logPath, cpus }: { env?: Record<string, string>; logPath: string; cpus?: string }): Promise<SpawnedServer> {
  await mkdir(dirname(logPath), { recursive: true });
  const logFd = openSync(logPath, 'w');
  const args = [...SERVER_NODE_FLAGS, 'dist/main.cjs'];
  const child =
    cpus === undefined
      ? spawn(process.execPath, args, { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', logFd, logFd] })
      : spawn('taskset', ['-c', cpus, process.execPath, ...args], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exitedWith: number | string | undefined;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      exitedWith = code ?? signal ?? 'unknown';
      resolve(exitedWith);
    }),
  );
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (exitedWith !== undefined) throw new Error(`the server exited (${exitedWith}) before it was ready:\n${await readLogTail(logPath)}`);
    for (const line of (await readFile(logPath, 'utf8')).split('\n')) {
      if (!line.includes('"ready"')) continue;
      const { msg, port } = JSON.parse(line) as { msg?: unknown; port?: unknown };
      // taskset execs node, so the child's pid is the server's.
      if (msg === 'ready' && typeof port === 'number') return { child, pid: child.pid!, url: `http://127.0.0.1:${port}`, port, logPath, exited };
    }
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`the server was not ready within ${READY_TIMEOUT_MS} ms:\n${await readLogTail(logPath)}`);
}

/** SIGTERM a server and resolve with its exit code or the signal that ended it (SIGKILL past the timeout). */
export async function stopServer(server: SpawnedServer): Promise<number | string> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const code = await server.exited;
  clearTimeout(timer);
  return code;
}

/** Resident memory of a process in bytes (VmRSS). */
export function readRssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}

/** Linux reports utime and stime in clock ticks of USER_HZ, 100 per second on every architecture it runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time a process has used, user plus system, in seconds (/proc/<pid>/stat utime + stime). Unlike wall
 * time, time the process spent waiting while other tenants ran is not counted.
 */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** One sample of the service's `http_request_duration_seconds` histogram; `le` is undefined for its `_count`. */
export interface RequestDurationSample {
  method: string;
  route: string;
  status: string;
  le: number | undefined;
  value: number;
}

/** The request-duration samples of a /metrics text, whatever the order of their labels. */
export function readRequestDurations(metricsText: string): RequestDurationSample[] {
  const samples: RequestDurationSample[] = [];
  for (const [, kind, labelText, value] of metricsText.matchAll(/^http_request_duration_seconds_(bucket|count)\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...labelText!.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, text]) => [name, text]));
    samples.push({ method: labels.method!, route: labels.route!, status: labels.status!, le: kind === 'bucket' ? Number(labels.le) : undefined, value: Number(value) });
  }
  return samples;
}
