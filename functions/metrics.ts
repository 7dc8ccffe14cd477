import { Hono } from 'hono';
import { respond } from './http.ts';
import type { AppEnv } from './state.ts';
import type { Telemetry } from './telemetry.ts';

/** GET /metrics: every metric in the Prometheus text format, for scraping. */
export function createMetricsRoutes({ telemetry }: { telemetry: Telemetry }) {
  return new Hono<AppEnv>().get('/metrics', async (c) => {
    const body = await telemetry.registry.metrics();
    return respond(c, body, telemetry.registry.contentType);
  });
}
