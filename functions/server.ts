import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.ts';
import { ConfigError, readConfig } from './config.ts';
import { createLogger } from './logger.ts';
import type { Instance } from '../lib/model/signature.ts';
import { createExampleInstance, loadServedModel } from './model.ts';
import { createServingState } from './state.ts';
import { createTelemetry } from './telemetry.ts';

/** After SIGTERM, stop listening once nothing has been accepted, requested or answered for this long. */
const QUIET_MS = 100;
/** How often draining checks for activity and connections left. */
const DRAIN_POLL_MS = 20;

const seconds = () => performance.now() / 1000;
// If the log reader goes away (EPIPE), keep serving and stop logging rather than crash.
let stdoutBroken = false;
process.stdout.on('error', () => {
  stdoutBroken = true;
});
const write = (chunk: string) => {
  if (!stdoutBroken) process.stdout.write(chunk);
};
let log = createLogger({ write });

function exit(code: number): never {
  log.flush();
  process.exit(code);
}

/** Read the environment, listen, load and verify the model, and serve until SIGTERM or SIGINT. */
export async function startServer(): Promise<void> {
  let config;
  try {
    config = readConfig(process.env, fileURLToPath(new URL('../model-registry/', import.meta.url)));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error('invalid configuration', { error: error.message.replaceAll('\n', '; ') });
    exit(1);
  }
  log = createLogger({ level: config.logLevel, write });
  const state = createServingState();
  const telemetry = createTelemetry();
  const app = createApp({
    state,
    telemetry,
    logger: log,
    maxBatchInstances: config.maxBatchInstances,
    maxBodyBytes: config.maxBodyBytes,
    getProcessStats: () => {
      const memory = process.memoryUsage();
      return {
        uptimeSeconds: process.uptime(),
        rssBytes: memory.rss,
        heapTotalBytes: memory.heapTotal,
        heapUsedBytes: memory.heapUsed,
        externalBytes: memory.external,
        node: process.version,
      };
    },
  });

  // Activity the drain waits out: requests in flight, and the last accept or request or answer.
  let inFlight = 0;
  let lastActivity = performance.now();
  let draining = false;
  const drain = async (signal: string) => {
    if (draining) return;
    draining = true;
    state.phase = 'draining';
    log.info('draining', { signal, timeoutMs: config.drainTimeoutMs });
    const deadline = performance.now() + config.drainTimeoutMs;
    let listening = true;
    for (;;) {
      await new Promise((done) => setTimeout(done, DRAIN_POLL_MS));
      // Quiet means the event loop had time to accept what the kernel queued and to read what
      // clients sent; only then is it safe to stop listening and to close idle connections.
      // (http.Server#close() would close idle connections at once, dropping requests whose bytes
      // have arrived but are not parsed yet.)
      const quiet = inFlight === 0 && performance.now() - lastActivity >= QUIET_MS;
      if (quiet && listening) {
        NetServer.prototype.close.call(server);
        listening = false;
      }
      if (!listening) {
        server.closeIdleConnections();
        const open = await new Promise<number>((done) => server.getConnections((_, count) => done(count)));
        if (open === 0) break;
      }
      if (performance.now() >= deadline) {
        log.warn('drain timeout; closing remaining connections', { inFlight });
        server.closeAllConnections();
        break;
      }
    }
    log.info('stopped', { signal });
    exit(0);
  };

  // Listen first: /health answers and /ready says 503 while the model loads.
  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(started as Server));
    started.once('error', reject);
  });
  server.on('connection', () => {
    lastActivity = performance.now();
  });
  server.on('request', (_request, response) => {
    inFlight++;
    lastActivity = performance.now();
    response.once('close', () => {
      inFlight--;
      lastActivity = performance.now();
    });
  });
  process.on('SIGTERM', () => void drain('SIGTERM'));
  process.on('SIGINT', () => void drain('SIGINT'));
  log.info('listening', { host: config.host, port: (server.address() as AddressInfo).port });

  const loadStarted = seconds();
  try {
    const model = await loadServedModel({ registry: config.registry, name: config.modelName, version: config.modelVersion, digest: config.modelDigest });
    // Warm up: the same validation and prediction a request runs, on a customer built from the signature.
    const example = model.instanceSchema.parse(createExampleInstance(model.manifest));
    const [probability] = model.predict([example as Instance]);
    if (!(probability! >= 0 && probability! <= 1)) throw new Error(`warm-up prediction returned ${probability}`);
    if (draining) exit(0);
    state.model = model;
    state.loadSeconds = seconds() - loadStarted;
    state.loadedAt = new Date().toISOString();
    telemetry.setModel(model, state.loadSeconds);
    state.phase = 'ready';
    state.readySeconds = seconds();
    log.info('ready', {
      host: config.host,
      port: (server.address() as AddressInfo).port,
      registry: config.registry,
      model: model.name,
      version: model.version,
      digest: model.digest,
      loadMs: Math.round(state.loadSeconds * 1e6) / 1000,
      readyMs: Math.round(state.readySeconds * 1e6) / 1000,
    });
  } catch (error) {
    log.error('model load failed; refusing to serve an unverified model', {
      registry: config.registry,
      model: config.modelName,
      version: config.modelVersion,
      error: error instanceof Error ? error.message : String(error),
    });
    exit(1);
  }
}

/** Start the server, logging and exiting on any failure that escapes it. */
export function runServer(): void {
  startServer().catch((error: unknown) => {
    log.error('server failed', { error: error instanceof Error ? error.message : String(error) });
    exit(1);
  });
}

// `node functions/server.ts` starts it; the built bundle is started by dist/main.cjs instead.
if (import.meta.main) runServer();
