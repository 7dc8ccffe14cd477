import { Hono } from 'hono';
import type { Admission } from './admission.ts';
import { createNotReadyError, createOverloadedError } from './errors.ts';
import { respondJson } from './http.ts';
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
  admission: Admission;
  getProcessStats: () => ProcessStats;
}

/**
 * GET /health (liveness: 200 while the process can answer, with the served model and its
 * telemetry; never refused, however busy) and GET /ready (readiness: 200 only once the model is
 * loaded, verified and warm; 503 while loading, draining, or shedding load).
 */
export function createHealthRoutes({ state, telemetry, admission, getProcessStats }: HealthOptions) {
  return new Hono<AppEnv>()
    .get('/health', (c) => {
      const { model } = state;
      return respondJson(c, {
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
                source: model.source,
                ociDigest: model.ociDigest ?? null,
                loadedAt: state.loadedAt,
                loadSeconds: state.loadSeconds,
                loadPhases: state.loadPhases ?? null,
              },
        coldStart: { readySeconds: state.readySeconds ?? null, firstPredictSeconds: state.firstPredictSeconds ?? null },
        process: getProcessStats(),
        admission: admission.getStats(),
        telemetry: telemetry.getHealth(),
      });
    })
    .get('/ready', (c) => {
      if (state.phase === 'loading') throw createNotReadyError('The model is still loading.');
      if (state.phase === 'draining') throw createNotReadyError('The server is shutting down.');
      if (admission.isShedding()) throw createOverloadedError('The server is refusing requests over its budgets; send traffic elsewhere for now.');
      return respondJson(c, { status: 'ready', model: { name: state.model!.name, version: state.model!.version } });
    });
}
