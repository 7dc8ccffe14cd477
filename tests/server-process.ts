import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One JSON log line of the server. */
export type LogLine = Record<string, unknown> & { msg: string; level: string };

/** A server process spawned for a test, with its parsed log lines. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  lines: LogLine[];
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** The entry point a spawned server runs: the build (tests/global-setup.ts makes it), or SERVER_ENTRY. */
export const SERVER_ENTRY = process.env.SERVER_ENTRY ?? 'dist/main.cjs';

/** Spawn the server with `env` on a free port, without waiting for anything. */
export function spawnServer(env: Record<string, string> = {}): { child: ChildProcess; lines: LogLine[]; exited: Promise<number | null>; waitFor: (predicate: (line: LogLine) => boolean) => Promise<LogLine> } {
  const child = spawn(process.execPath, [SERVER_ENTRY], { env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  const waiters: { predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text, level: 'raw' };
    }
    lines.push(line);
    for (const waiter of waiters.splice(0)) {
      if (waiter.predicate(line)) waiter.resolve(line);
      else waiters.push(waiter);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (predicate: (line: LogLine) => boolean) =>
    new Promise<LogLine>((resolve, reject) => {
      const found = lines.find(predicate);
      if (found !== undefined) return resolve(found);
      waiters.push({ predicate, resolve });
      void exited.then((code) => reject(new Error(`server exited with ${code} before the expected log line; stderr: ${stderr}; lines: ${JSON.stringify(lines)}`)));
    });
  return { child, lines, exited, waitFor };
}

/** Spawn a server and wait until it logs that it is ready. */
export async function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const spawned = spawnServer(env);
  const ready = await spawned.waitFor((line) => line.msg === 'ready');
  return {
    ...spawned,
    url: `http://127.0.0.1:${ready.port as number}`,
    stop: async () => {
      if (spawned.child.exitCode === null) spawned.child.kill('SIGTERM');
      return spawned.exited;
    },
  };
}
