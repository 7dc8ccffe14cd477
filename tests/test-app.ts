import { createAdmission, type Admission } from '../functions/admission.ts';
import { createApp, type AppOptions } from '../functions/app.ts';
import { createLogger } from '../functions/logger.ts';
import type { ServedModel } from '../functions/model.ts';
import { createServingState, type ServingState } from '../functions/state.ts';
import { createTelemetry, type Telemetry } from '../functions/telemetry.ts';

/** Options of {@link createAppForTest}: the served model (undefined: still loading), the request limits and budgets. */
export interface AppForTestOptions {
  model: ServedModel | undefined;
  maxBatchInstances?: number;
  maxBodyBytes?: number;
  /** Admission control; by default budgets no test reaches. */
  admission?: Admission | undefined;
  /** Which requests get a log line; every request by default, so tests can read them. */
  accessLog?: AppOptions['accessLog'];
}

/**
 * The whole app as server.ts composes it, without a socket: handlers are driven through `app.request()`,
 * log lines are collected, and `post(path, body)` sends JSON.
 */
export function createAppForTest({
  model,
  maxBatchInstances = 5,
  maxBodyBytes = 64 * 1024,
  admission = createAdmission({ maxInflightRequests: 100, maxInflightBodyBytes: 16 * 1024 * 1024, maxBusyMs: 60_000 }),
  accessLog = 'all',
}: AppForTestOptions) {
  const state: ServingState = createServingState();
  const telemetry: Telemetry = createTelemetry({ collectProcessMetrics: false, isReady: () => state.phase === 'ready' });
  const lines: string[] = [];
  if (model !== undefined) {
    state.model = model;
    state.phase = 'ready';
    telemetry.setModel(model, 0.01);
  }
  const app = createApp({
    state,
    telemetry,
    logger: createLogger({ write: (chunk) => lines.push(chunk), maxBufferBytes: 0 }),
    accessLog,
    admission,
    maxBatchInstances,
    maxBodyBytes,
    getProcessStats: () => ({ uptimeSeconds: 1, rssBytes: 2, heapTotalBytes: 3, heapUsedBytes: 3, externalBytes: 4, node: 'test' }),
  });
  const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => app.request(path, { method: 'POST', body, headers });
  return { app, state, telemetry, lines, post };
}
