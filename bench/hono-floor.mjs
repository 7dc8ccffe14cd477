// The framework floor: Hono on @hono/node-server, reading and parsing the body like the service and
// answering a fixed JSON of the same size, with no validation, scoring, logging or metrics. Its
// distance from the bare server is what the framework costs; the service's distance from it is what
// the service's own work costs. Plain JavaScript, run by bench/bench.ts.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { getFixedAnswer } from './fixed-answer.mjs';

const app = new Hono();
app.post('/predict', async (c) => {
  const body = await c.req.json();
  return c.json(getFixedAnswer(Array.isArray(body.instances) ? body.instances.length : 0).object);
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 8080), hostname: '127.0.0.1' });
