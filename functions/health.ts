import { Hono } from 'hono';
import { createNotReadyError } from './errors.ts';
import type { AppEnv, ServingState } from './state.ts';
import type { Telemetry } from './telemetry.ts';

/** Memory and uptime of the process, supplied by server.ts (the only module that reads the process). */
export interface ProcessStats {
  uptimeSeconds: number;
  rssBytes: number;
  heapTotalBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  node: string;
}

/** Options of {@link createHealthRoutes}. */
export interface HealthOptions {
  state: ServingState;
  telemetry: Telemetry;
  getProcessStats: () => ProcessStats;
}

/**
 * GET /health (liveness: 200 while the process can answer, with the served model and its
 * telemetry) and GET /ready (readiness: 200 only once the model is loaded, verified and warm,
 * 503 while loading or draining).
 */
export function createHealthRoutes({ state, telemetry, getProcessStats }: HealthOptions) {
  return new Hono<AppEnv>()
    .get('/health', (c) => {
      const { model } = state;
      return c.json({
        status: state.phase === 'ready' ? 'ok' : state.phase,
        model:
          model === undefined
            ? null
            : {
                name: model.name,
                version: model.version,
                digest: model.digest,
                algorithm: model.manifest.algorithm.name,
                threshold: model.threshold,
                loadedAt: state.loadedAt,
                loadSeconds: state.loadSeconds,
              },
        coldStart: { readySeconds: state.readySeconds ?? null, firstPredictSeconds: state.firstPredictSeconds ?? null },
        process: getProcessStats(),
        telemetry: telemetry.getHealth(),
      });
    })
    .get('/ready', (c) => {
      if (state.phase === 'loading') throw createNotReadyError('The model is still loading.');
      if (state.phase === 'draining') throw createNotReadyError('The server is shutting down.');
      return c.json({ status: 'ready', model: { name: state.model!.name, version: state.model!.version } });
    });
}
