import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { Admission } from './admission.ts';
import { createDocsRoutes } from './docs.ts';
import { createFeedbackRoutes } from './feedback.ts';
import { ApiError, createErrorBody, createMethodNotAllowedError, createNotFoundError } from './errors.ts';
import { createHealthRoutes, type ProcessStats } from './health.ts';
import { getRequestHeader, respondJson } from './http.ts';
import type { Logger } from './logger.ts';
import { createMetricsRoutes } from './metrics.ts';
import { createPredictRoutes } from './predict.ts';
import type { AppEnv, ServingState } from './state.ts';
import type { Telemetry } from './telemetry.ts';

/** Every route and the methods it answers; anything else is a 404, a known path with another method a 405. */
export const ROUTE_METHODS: Record<string, string[]> = {
  '/predict': ['POST'],
  '/feedback': ['POST'],
  '/health': ['GET', 'HEAD'],
  '/ready': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
  '/openapi.json': ['GET', 'HEAD'],
  '/docs': ['GET', 'HEAD'],
};

/** A request at least this slow gets a log line whatever the access log policy (but off). */
const SLOW_REQUEST_SECONDS = 1;

/** A client-supplied request id is kept when it is short and made of safe characters. */
const REQUEST_ID = /^[\w\-=]{1,255}$/;

/** Everything the app needs; server.ts builds it from the environment. */
export interface AppOptions {
  state: ServingState;
  telemetry: Telemetry;
  logger: Logger;
  /** Which requests get a log line (config.ts); every request always counts in the metrics. */
  accessLog?: 'all' | 'errors' | 'off' | number;
  admission: Admission;
  maxBatchInstances: number;
  maxBodyBytes: number;
  getProcessStats: () => ProcessStats;
}

/**
 * Compose the function handlers into one app: request ids, one structured log line and one
 * metric sample per request, a Connection: close while draining, and one error handler that maps
 * every failure to the JSON error body. An answer given before its request body was read keeps the
 * connection open: the adapter then reads and discards the rest (bounded in bytes and time), so the
 * client, still sending, reads the answer instead of a reset.
 */
export function createApp(options: AppOptions): Hono<AppEnv> {
  const { state, telemetry, logger, accessLog = 'all' } = options;
  const app = new Hono<AppEnv>();
  // Request ids: this process's random prefix and a counter, unique without a random UUID per request.
  const idPrefix = randomBytes(6).toString('hex');
  let requests = 0;
  const sampleShare = typeof accessLog === 'number' ? accessLog : accessLog === 'all' ? 1 : 0;
  const logsErrors = accessLog !== 'off';

  // One middleware for request ids, timing, the log line and the metric sample: each extra async
  // layer costs every request a few promises.
  app.use(async (c, next) => {
    const started = performance.now();
    const given = getRequestHeader(c, 'x-request-id');
    const id = given !== undefined && REQUEST_ID.test(given) ? given : `${idPrefix}-${(++requests).toString(36)}`;
    // Every answer carries it: functions/http.ts builds them all.
    c.set('requestId', id);
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = c.req.path in ROUTE_METHODS ? c.req.path : 'unmatched';
    const status = c.res.status;
    telemetry.recordRequest(c.req.method, route, status, seconds);
    const logged = (logsErrors && (status >= 400 || seconds >= SLOW_REQUEST_SECONDS)) || (sampleShare > 0 && (sampleShare === 1 || Math.random() < sampleShare));
    if (logged) logger.info('request', {
      id,
      method: c.req.method,
      route,
      status,
      durationMs: Math.round(seconds * 1e6) / 1000,
      model: state.model?.version ?? null,
      instances: c.get('instances'),
      error: c.get('error'),
    });
    // While draining, close after every answer so keep-alive clients move on.
    if (state.phase === 'draining') c.header('connection', 'close');
  });

  app.route('/', createPredictRoutes(options));
  app.route('/', createFeedbackRoutes(options));
  app.route('/', createHealthRoutes(options));
  app.route('/', createMetricsRoutes(options));
  app.route('/', createDocsRoutes(options));

  const respond = (c: Context<AppEnv>, error: ApiError) => {
    c.set('error', error.code);
    return respondJson(c, createErrorBody(error.code, error.message, error.details), error.status, error.headers);
  };
  app.notFound((c) => respond(c, createNotFoundError()));
  app.onError((error, c) => {
    if (error instanceof ApiError) return respond(c, error);
    logger.error('unhandled error', { id: c.get('requestId'), route: c.req.path, error: error.message, stack: error.stack ?? null });
    c.set('error', 'internal_error');
    return respondJson(c, createErrorBody('internal_error', `An unexpected error occurred; it is logged under request id ${c.get('requestId')}.`), 500);
  });

  // Known paths reached with another method: routes are matched first, so only misses get here.
  for (const [path, methods] of Object.entries(ROUTE_METHODS)) {
    app.all(path, () => {
      throw createMethodNotAllowedError(methods);
    });
  }
  return app;
}
