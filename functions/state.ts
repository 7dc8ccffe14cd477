import type { ServedModel } from './model.ts';

/** The Hono environment shared by every sub-app: values middleware and handlers pass along. */
export interface AppEnv {
  Variables: {
    requestId: string;
    /** Customers scored by this request, for its log line. */
    instances: number;
    /** The error code of a failed request (e.g. validation_failed), for its log line. */
    error: string;
  };
}

/** The lifecycle of the process: loading the model, serving, then draining on SIGTERM. */
export type Phase = 'loading' | 'ready' | 'draining';

/** Seconds each phase of loading the model took: resolve the reference, download, verify, compile, warm up. */
export interface LoadPhases {
  resolve: number;
  download: number;
  verify: number;
  compile: number;
  warmup: number;
}

/** What every handler may read about the process; only server.ts changes it. */
export interface ServingState {
  phase: Phase;
  model: ServedModel | undefined;
  loadedAt: string | undefined;
  loadSeconds: number | undefined;
  loadPhases: LoadPhases | undefined;
  /** Seconds from process start until the model was loaded, verified and warmed up. */
  readySeconds: number | undefined;
  /** Seconds from process start until the first successful /predict. */
  firstPredictSeconds: number | undefined;
}

/** Create the state of a process that has not loaded its model yet. */
export function createServingState(): ServingState {
  return { phase: 'loading', model: undefined, loadedAt: undefined, loadSeconds: undefined, loadPhases: undefined, readySeconds: undefined, firstPredictSeconds: undefined };
}
