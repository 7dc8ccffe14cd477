import { createAdaptorServer } from '@hono/node-server';
import { z } from 'zod';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { totalmem } from 'node:os';
import type { Duplex } from 'node:stream';
import { getHeapStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { createAdmission } from './admission.ts';
import { ROUTE_METHODS, createApp } from './app.ts';
import { ConfigError, readConfig, type Config } from './config.ts';
import { createErrorBody, createRequestTimeoutError } from './errors.ts';
import { createLogger } from './logger.ts';
import type { Instance } from '../lib/model/signature.ts';
import { UnpinnedError } from '../lib/registry/errors.ts';
import { createExampleInstance, loadServedModel } from './model.ts';
import { createServingState } from './state.ts';
import { createTelemetry } from './telemetry.ts';
import { checkBodyHeaders } from './validation.ts';

/** After SIGTERM, stop listening once nothing has been accepted, requested or answered for this long. */
const QUIET_MS = 100;
/** How often draining checks for activity and connections left. */
const DRAIN_POLL_MS = 20;
/** How often Node checks connections against the header and request timeouts (its default, 30 s, would let a 10 s timeout run 40 s). */
const CONNECTIONS_CHECK_INTERVAL_MS = 1000;
/** Above this share of the memory limit, a V8 heap limit is reported as a risk at start. */
const HEAP_SHARE_WARNING = 0.75;
/** How long a connection whose request was refused with 503 is not read from: the Retry-After the answer states. */
const RETRY_AFTER_MS = 1000;

/** The container's memory limit (cgroup), or undefined when the process has none below the machine's memory. */
function getContainerMemoryBytes(): number | undefined {
  const limit = process.constrainedMemory();
  return limit > 0 && limit < totalmem() ? limit : undefined;
}

/** The raw answer to a connection-level client error (no request reached the app), in the API's error format. */
function createRawErrorAnswer(code: string): string {
  const [status, reason, errorCode, message] =
    code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'request_timeout', 'The request was not received in time.']
      : code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are too large.']
        : [400, 'Bad Request', 'bad_request', 'The request is not valid HTTP/1.1.'];
  const body = JSON.stringify(createErrorBody(errorCode, message));
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

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
  // zod compiles each object schema into code with new Function on its first parse: tens of milliseconds of a
  // cold start here, for schemas a request parses only when a customer fails the fast check (signature.ts).
  z.config({ jitless: true });
  const containerMemoryBytes = getContainerMemoryBytes();
  let config: Config;
  try {
    config = readConfig(process.env, fileURLToPath(new URL('../model-registry/', import.meta.url)), containerMemoryBytes);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error('invalid configuration', { error: error.message.replaceAll('\n', '; ') });
    exit(1);
  }
  log = createLogger({ level: config.logLevel, write });
  // In a container the budgets assume the heap cannot take the whole limit (the image and the chart set
  // --max-old-space-size to half of it).
  const heapLimitBytes = getHeapStatistics().heap_size_limit;
  if (containerMemoryBytes !== undefined && heapLimitBytes > config.memoryLimitBytes * HEAP_SHARE_WARNING) {
    log.warn('the V8 heap may grow past the memory budget; start node with --max-old-space-size of about half the memory limit', {
      heapLimitBytes,
      memoryLimitBytes: config.memoryLimitBytes,
    });
  }
  const state = createServingState();
  // churn_ready says what /ready answers: ready, and not shedding load.
  const telemetry = createTelemetry({ isReady: () => state.phase === 'ready' && !admission.isShedding() });
  const admission = createAdmission({
    maxInflightRequests: config.maxInflightRequests,
    maxInflightBodyBytes: config.maxInflightBodyBytes,
    maxBusyMs: config.maxBusyMs,
    onShed: (reason) => telemetry.recordShed(reason),
  });
  const app = createApp({
    state,
    telemetry,
    logger: log,
    accessLog: config.accessLog,
    admission,
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
        for (const server of servers) NetServer.prototype.close.call(server);
        listening = false;
      }
      if (!listening) {
        let open = 0;
        for (const server of servers) {
          server.closeIdleConnections();
          open += await new Promise<number>((done) => server.getConnections((_, count) => done(count)));
        }
        if (open === 0) break;
      }
      if (performance.now() >= deadline) {
        log.warn('drain timeout; closing remaining connections', { inFlight });
        for (const server of servers) server.closeAllConnections();
        break;
      }
    }
    log.info('stopped', { signal });
    exit(0);
  };

  // Every request must arrive within seconds: slow or stalled clients are cut, so they cannot hold
  // connections, body bytes and memory for Node's default 300 s.
  // libuv accepts one connection per listening socket per turn of the event loop (libuv#3696): under a
  // flood of connections a probe on a new one waits behind all those queued before it, a turn each.
  // Several listeners on the same port (SO_REUSEPORT; the kernel spreads connections over them) accept
  // that many per turn.
  const exchanges = new WeakMap<Duplex, { request: IncomingMessage; response: ServerResponse }>();
  const createListener = (): Server => {
    const server = createAdaptorServer({
      fetch: app.fetch,
      hostname: config.host,
      serverOptions: { headersTimeout: config.headersTimeoutMs, requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS },
    }) as Server;
    server.on('connection', () => {
      lastActivity = performance.now();
    });
    server.on('request', onRequest);
    server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
      if (acceptsBody(request)) response.writeContinue();
      server.emit('request', request, response);
    });
    server.on('clientError', onClientError);
    return server;
  };
  // The exchange in progress on each connection (above) is for the client error handler.
  function onRequest(request: IncomingMessage, response: ServerResponse) {
    inFlight++;
    lastActivity = performance.now();
    exchanges.set(request.socket, { request, response });
    // One listener per request, for the drain and for connections refused with 503.
    response.once('close', () => {
      inFlight--;
      lastActivity = performance.now();
      if (response.statusCode === 503 && request.method === 'POST' && response.writableFinished && state.phase !== 'draining') holdConnection(request);
    });
  }
  // A keep-alive client refused with 503 would send its next request at once: 2,000 eager connections could
  // then fill every turn of the event loop with refusals. Such a connection is not read from for the
  // Retry-After it was told, once its request is read (an unread body is discarded first, so the client can
  // read the answer).
  function holdConnection(request: IncomingMessage) {
    const hold = () => {
      const socket = request.socket;
      if (socket.destroyed) return;
      socket.pause();
      setTimeout(() => socket.resume(), RETRY_AFTER_MS).unref();
    };
    if (request.complete) hold();
    else request.once('end', hold);
  }
  // Expect: 100-continue: invite the body only when it would be accepted; otherwise the app answers at
  // once (413, 415, 503...) and the client never sends it.
  function acceptsBody(request: IncomingMessage): boolean {
    const path = (request.url ?? '').split('?', 1)[0]!;
    if (request.method !== 'POST' || !ROUTE_METHODS[path]?.includes('POST') || state.phase !== 'ready') return false;
    try {
      return admission.wouldAdmit(checkBodyHeaders((name) => request.headers[name] as string | undefined, config.maxBodyBytes).reserve);
    } catch {
      return false;
    }
  }
  // Errors before or outside the app: malformed HTTP, header or request timeouts, resets. Answered as
  // Node's default would, in the API's error format; a request being read learns that it timed out (a
  // 408 in its log line and metrics, not a generic failure); each is counted.
  function onClientError(error: NodeJS.ErrnoException, socket: Duplex) {
    const code = error.code ?? 'unknown';
    const exchange = exchanges.get(socket);
    const pending = exchange !== undefined && !exchange.response.headersSent;
    telemetry.recordConnectionError(code);
    log.debug('client error', { code });
    if (code !== 'ECONNRESET' && socket.writable && (exchange === undefined || pending)) socket.write(createRawErrorAnswer(code));
    // Destroying an unfinished request destroys its socket too, so this comes after the answer.
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT' && pending && !exchange.request.complete) exchange.request.destroy(createRequestTimeoutError(config.requestTimeoutMs));
    socket.destroy();
  }

  // Listen first: /health answers and /ready says 503 while the model loads. The first listener picks the
  // port when PORT is 0; the others join it.
  const servers = Array.from({ length: config.listeners }, createListener);
  let port = config.port;
  for (const server of servers) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: config.host, reusePort: config.listeners > 1 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
  }
  process.on('SIGTERM', () => void drain('SIGTERM'));
  process.on('SIGINT', () => void drain('SIGINT'));
  log.info('listening', { host: config.host, port, listeners: servers.length });

  const loadStarted = seconds();
  try {
    const model = await loadServedModel({
      registry: config.registry,
      name: config.modelName,
      version: config.modelVersion,
      digest: config.modelDigest,
      ociDigest: config.modelOciDigest,
      plainHttp: config.registryPlainHttp,
      dockerConfigDir: config.dockerConfigDir,
      maxBytes: config.modelMaxBytes,
    });
    // Warm up: the same validation and prediction a request runs, on a customer built from the signature.
    const warmupStarted = seconds();
    const example = model.instanceSchema.parse(createExampleInstance(model.manifest));
    const [probability] = model.predict([example as Instance]);
    if (!(probability! >= 0 && probability! <= 1)) throw new Error(`warm-up prediction returned ${probability}`);
    if (draining) exit(0);
    state.model = model;
    state.loadSeconds = seconds() - loadStarted;
    state.loadPhases = { ...model.loadPhases, warmup: seconds() - warmupStarted };
    state.loadedAt = new Date().toISOString();
    telemetry.setModel(model, state.loadSeconds, state.loadPhases);
    state.phase = 'ready';
    state.readySeconds = seconds();
    const ms = (value: number) => Math.round(value * 1e6) / 1000;
    log.info('ready', {
      host: config.host,
      port,
      registry: config.registry,
      source: model.source,
      model: model.name,
      version: model.version,
      digest: model.digest,
      ociDigest: model.ociDigest,
      loadMs: ms(state.loadSeconds),
      resolveMs: ms(state.loadPhases.resolve),
      downloadMs: ms(state.loadPhases.download),
      verifyMs: ms(state.loadPhases.verify),
      compileMs: ms(state.loadPhases.compile),
      warmupMs: ms(state.loadPhases.warmup),
      readyMs: ms(state.readySeconds),
    });
  } catch (error) {
    log.error('model load failed; refusing to serve an unverified model', {
      registry: config.registry,
      model: config.modelName,
      version: config.modelVersion,
      error: error instanceof Error ? error.message : String(error),
      hint: error instanceof UnpinnedError ? `set MODEL_DIGEST=sha256:<digest of manifest.json> or MODEL_VERSION=${config.modelVersion}@sha256:<OCI manifest digest>` : undefined,
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
