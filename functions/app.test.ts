import { beforeAll, describe, expect, it, vi } from 'vitest';
import { readDataset } from '../training/dataset.ts';
import { createAppForTest, type AppForTestOptions } from '../tests/test-app.ts';
import { createAdmission } from './admission.ts';
import { loadServedModel, type ServedModel } from './model.ts';

let model: ServedModel;
let customers: Record<string, unknown>[];

beforeAll(async () => {
  model = await loadServedModel({ registry: 'model-registry', name: 'telco-churn', version: 'production' });
  customers = (await readDataset('training/data/telco-churn.csv')).instances.slice(0, 20);
});

function createTestApp({ loaded = true, ...options }: { loaded?: boolean } & Omit<AppForTestOptions, 'model'> = {}) {
  const created = createAppForTest({ model: loaded ? model : undefined, ...options });
  return { ...created, post: (body: string, headers?: Record<string, string>) => created.post('/predict', body, headers) };
}

const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string; details: { path: string; message: string }[] } }).error;

describe('POST /predict', () => {
  it('answers one prediction per customer, in request order, with the model that made it', async () => {
    const { post } = createTestApp();
    const batch = customers.slice(0, 5);
    const forward = (await (await post(JSON.stringify({ instances: batch }))).json()) as { model: unknown; predictions: { churn: boolean; probability: number }[] };
    const backward = (await (await post(JSON.stringify({ instances: [...batch].reverse() }))).json()) as typeof forward;
    expect(forward.model).toEqual({ name: 'telco-churn', version: model.version });
    expect(forward.predictions).toHaveLength(5);
    expect(backward.predictions).toEqual([...forward.predictions].reverse());
    for (const prediction of forward.predictions) expect(prediction.churn).toBe(prediction.probability >= model.threshold);
  });

  it('ignores unknown fields, as MLflow does, wherever they stand among the inputs', async () => {
    const { post, telemetry } = createTestApp();
    const plain = await (await post(JSON.stringify({ instances: [customers[0]] }))).json();
    // Unknown fields before, among and after the inputs: the answer and the drift counts are the same.
    const [first, ...rest] = Object.entries(customers[0]!);
    const padded = Object.fromEntries([['customer_id', '7590-VHVEG'], first!, ['tenure', 'ignored?'], ...rest, ['zz', { nested: [1] }]]);
    padded.tenure = customers[0]!.tenure;
    const response = await post(JSON.stringify({ instances: [padded] }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(plain);
    const drift = telemetry.getHealth().drift.features!;
    for (const feature of Object.values(drift)) expect(feature.n).toBe(2);
  });

  it('reads a plain batch straight from its bytes, and answers it as it answers the same batch parsed', async () => {
    const { post } = createTestApp({ maxBatchInstances: 20 });
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const decoded = await post(JSON.stringify({ instances: customers }));
      const parsedBefore = parse.mock.calls.length;
      // A field beside "instances" is outside what the decoder reads: this body is parsed and checked.
      const parsed = await post(JSON.stringify({ id: 'batch-7', instances: customers }));
      expect([decoded.status, parsed.status]).toEqual([200, 200]);
      expect(await decoded.text()).toBe(await parsed.text());
      expect([parsedBefore, parse.mock.calls.length > parsedBefore]).toEqual([0, true]);
    } finally {
      parse.mockRestore();
    }
  });

  it('answers 422 naming every offending field, without echoing what was sent', async () => {
    const { post, telemetry } = createTestApp();
    const batch = customers.slice(0, 5).map((customer) => ({ ...customer }));
    batch[3]!.tenure = -4;
    batch[1]!.contract = 'SECRET-CONTRACT';
    delete batch[2]!.monthly_charges;
    const response = await post(JSON.stringify({ instances: batch }));
    expect(response.status).toBe(422);
    const error = await errorOf(response);
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([
      { path: 'instances.1.contract', message: 'expected one of "Month-to-month", "One year", "Two year"' },
      { path: 'instances.2.monthly_charges', message: 'required' },
      { path: 'instances.3.tenure', message: 'expected an integer >= 0' },
    ]);
    expect(JSON.stringify(error)).not.toContain('SECRET');
    const health = telemetry.getHealth();
    expect(health.validationErrors).toEqual({ requests: 1, byField: { contract: 1, monthly_charges: 1, tenure: 1 } });
    expect(health.drift.unseenCategories).toEqual({ contract: 1 });
  });

  it.each([
    ['not an object', '[1,2]', '(body)'],
    ['no instances', '{}', 'instances'],
    ['an empty batch', '{"instances":[]}', 'instances'],
    ['instances that are not objects', '{"instances":[3]}', 'instances.0'],
  ])('answers 422 for %s', async (_, body, path) => {
    const { post } = createTestApp();
    const response = await post(body);
    expect(response.status).toBe(422);
    expect((await errorOf(response)).details[0]!.path).toBe(path);
  });

  it('lists at most 100 problems and says that checking stopped there', async () => {
    const { post } = createTestApp({ maxBatchInstances: 1000 });
    const response = await post(JSON.stringify({ instances: Array.from({ length: 30 }, () => ({})) }));
    const error = await errorOf(response);
    expect(error.details).toHaveLength(100);
    expect(error.details.at(-1)!.path).toMatch(/^instances\.5\./);
    expect(error.message).toContain('(more than 100 problems; checking stopped at the first 100)');
  });

  it.each([
    ['null', 'null', '(body)', 'expected an object with an "instances" array'],
    ['a string', '"instances"', '(body)', 'expected an object with an "instances" array'],
    ['null instances', '{"instances":null}', 'instances', 'expected an array of customers'],
    ['an object of instances', '{"instances":{"0":{}}}', 'instances', 'expected an array of customers'],
    ['a null customer', '{"instances":[null]}', 'instances.0', 'Invalid input: expected object, received null'],
  ])('answers 422, never 500, for %s', async (_, body, path, message) => {
    const { post } = createTestApp();
    const response = await post(body);
    expect(response.status).toBe(422);
    expect((await errorOf(response)).details).toEqual([{ path, message }]);
  });

  it('answers 400 for malformed JSON and 415 for a body that is not declared as JSON', async () => {
    const { post } = createTestApp();
    const malformed = await post('{"instances": [');
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).code).toBe('malformed_json');
    const text = await post(JSON.stringify({ instances: customers.slice(0, 1) }), { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect((await errorOf(text)).code).toBe('unsupported_media_type');
  });

  it('answers 413 for a batch or a body over the limits', async () => {
    const { post } = createTestApp({ maxBatchInstances: 5, maxBodyBytes: 4096 });
    const batch = await post(JSON.stringify({ instances: customers.slice(0, 6) }));
    expect(batch.status).toBe(413);
    expect((await errorOf(batch)).details).toEqual([{ path: 'instances', message: 'expected at most 5 customers' }]);
    const body = await post(JSON.stringify({ instances: customers.slice(0, 5), padding: 'x'.repeat(5000) }));
    expect(body.status).toBe(413);
    expect((await errorOf(body)).code).toBe('payload_too_large');
  });

  it('answers 503 until the model is loaded', async () => {
    const { post, app } = createTestApp({ loaded: false });
    expect((await post(JSON.stringify({ instances: customers.slice(0, 1) }))).status).toBe(503);
    expect((await app.request('/ready')).status).toBe(503);
    const health = (await (await app.request('/health')).json()) as { status: string; model: unknown };
    expect(health).toMatchObject({ status: 'loading', model: null });
  });

  it('counts predictions and inputs outside the training ranges', async () => {
    const { post, telemetry } = createTestApp();
    await post(JSON.stringify({ instances: [{ ...customers[0], tenure: 100 }, customers[1]] }));
    const health = telemetry.getHealth();
    expect(health.predictions.total).toBe(2);
    expect(health.drift.outOfRange.tenure).toEqual({ below: 0, above: 1 });
  });
});

describe('routing and errors', () => {
  it('answers 404 for unknown paths and 405 with Allow for known paths with another method', async () => {
    const { app } = createTestApp();
    const missing = await app.request('/nope');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('not_found');
    const wrong = await app.request('/predict');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await app.request('/health', { method: 'DELETE' })).headers.get('allow')).toBe('GET, HEAD');
  });

  it('keeps the connection after answers that leave a body unread, and closes it after every answer while draining', async () => {
    const { app, post, state } = createTestApp({ maxBodyBytes: 4096 });
    expect((await app.request('/health')).headers.get('connection')).toBeNull();
    // Closing at once would reset a client still sending; the adapter discards the rest of the body instead.
    const tooLarge = await post(JSON.stringify({ pad: 'x'.repeat(5000) }), { 'content-type': 'application/json', 'content-length': '5011' });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('connection')).toBeNull();
    const unread = await post('{"instances":[]}', { 'content-type': 'text/plain', 'content-length': '16' });
    expect(unread.status).toBe(415);
    expect(unread.headers.get('connection')).toBeNull();
    state.phase = 'draining';
    expect((await app.request('/health')).headers.get('connection')).toBe('close');
    expect((await app.request('/ready')).status).toBe(503);
  });

  it('refuses a body over the byte limit while it streams, without a Content-Length', async () => {
    const { post } = createTestApp({ maxBodyBytes: 4096 });
    const response = await post(JSON.stringify({ pad: 'x'.repeat(5000) }));
    expect(response.status).toBe(413);
    expect((await errorOf(response)).message).toBe('The request body exceeds 4096 bytes.');
  });

  it('answers 400, never 500, for a body that breaks off mid-stream', async () => {
    const { app, lines } = createTestApp();
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"instances":['));
        controller.error(new Error('aborted'));
      },
    });
    const response = await app.request('/predict', { method: 'POST', body, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('incomplete_body');
    expect(lines.join('')).not.toContain('unhandled error');
  });

  it('makes work wait for a later turn of the event loop once a turn is busy, and skips it for a client that left', async () => {
    let clock = 0;
    const admission = createAdmission({ maxInflightRequests: 10, maxInflightBodyBytes: 1024 * 1024, maxBusyMs: 5, now: () => (clock += 10) });
    const { app, lines } = createTestApp({ admission });
    const body = JSON.stringify({ instances: customers.slice(0, 1) });
    const leaving = new AbortController();
    const requests = [0, 1, 2].map((i) =>
      app.request('/predict', { method: 'POST', body, headers: { 'content-type': 'application/json' }, ...(i === 1 ? { signal: leaving.signal } : {}) }),
    );
    leaving.abort();
    const statuses = await Promise.all(requests.map(async (request) => (await request).status));
    expect(statuses).toEqual([200, 400, 200]);
    expect(lines.some((line) => line.includes('"status":400'))).toBe(true);
    expect(admission.getStats()).toMatchObject({ waiting: 0, inflightRequests: 0 });
  });

  it('answers 503 with Retry-After once a budget is spent, and /ready turns 503 while shedding', async () => {
    let clock = 0;
    const admission = createAdmission({ maxInflightRequests: 1, maxInflightBodyBytes: 1024 * 1024, maxBusyMs: 60_000, now: () => clock });
    const { app, post } = createTestApp({ admission });
    const release = admission.admit(10);
    const refused = await post(JSON.stringify({ instances: customers.slice(0, 1) }));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await errorOf(refused)).code).toBe('overloaded');
    expect((await app.request('/ready')).status).toBe(503);
    expect((await app.request('/health')).status).toBe(200);
    release();
    expect((await post(JSON.stringify({ instances: customers.slice(0, 1) }))).status).toBe(200);
    clock += 1000;
    expect((await app.request('/ready')).status).toBe(200);
  });

  it('logs one JSON line per request with id, route, status, duration, model and error code, never feature values', async () => {
    const { post, lines } = createTestApp();
    const response = await post(JSON.stringify({ instances: [{ ...customers[0], payment_method: 'Mailed check' }] }));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'info', msg: 'request', method: 'POST', route: '/predict', status: 200, model: model.version, instances: 1 });
    expect(line.id).toBe(response.headers.get('x-request-id'));
    expect(line.durationMs).toBeGreaterThan(0);
    expect(lines[0]).not.toContain('Mailed check');
    expect(line.error).toBeUndefined();
    // A refused request's line names the error code.
    await post('{"instances":[]}');
    expect(JSON.parse(lines[1]!)).toMatchObject({ status: 422, error: 'validation_failed' });
  });
});

describe('health, readiness, metrics and docs', () => {
  it('reports the served model and telemetry on /health and readiness on /ready', async () => {
    const { app, post } = createTestApp();
    await post(JSON.stringify({ instances: customers.slice(0, 3) }));
    expect((await app.request('/ready')).status).toBe(200);
    const health = (await (await app.request('/health')).json()) as Record<string, any>;
    expect(health.status).toBe('ok');
    expect(health.model).toMatchObject({ name: 'telco-churn', version: model.version, digest: model.digest, algorithm: model.manifest.algorithm.name });
    expect(health.telemetry.predictions).toMatchObject({ total: 3, trainingBaseRate: model.manifest.metrics.trainingBaseRate });
    expect(health.telemetry.latencyMs.p99).toBeGreaterThan(0);
    expect(health.telemetry.quality).toMatchObject({ observations: 0, rocAuc: { live: null, expected: model.manifest.metrics.test.rocAuc } });
    // A version published before drift references existed (1.0.0) serves on without drift figures.
    expect(health.telemetry.drift.features === null).toBe(model.reference === undefined);
  });

  it('exposes Prometheus metrics with sub-millisecond buckets and the model info', async () => {
    const { app, post } = createTestApp();
    await post(JSON.stringify({ instances: customers.slice(0, 3) }));
    await post('{}');
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.0001",method="POST",route="/predict",status="200"}');
    expect(text).toMatch(/churn_predictions_total\{outcome="(no_)?churn"\} [1-3]/);
    expect(text).toContain(`churn_model_info{name="telco-churn",version="${model.version}",digest="${model.digest}"} 1`);
    expect(text).toContain('churn_validation_errors_total{field="instances"} 1');
    expect(text).toContain('churn_model_load_seconds 0.01');
    expect(text).toContain('churn_ready 1');
    expect(text).toContain(`churn_model_expected_metric{version="${model.version}",metric="accuracy"} ${model.manifest.metrics.test.accuracy}`);
  });

  it('counts every request in a histogram whose series stay bounded, whatever method a client invents', async () => {
    const { app, post } = createTestApp();
    await post(JSON.stringify({ instances: customers.slice(0, 1) }));
    for (const method of ['PROPFIND', 'BREW', 'X-ANYTHING']) await app.request('/predict', { method });
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="POST",route="\/predict",status="200"\} 1$/m);
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="other",route="\/predict",status="405"\} 3$/m);
    expect(text).not.toMatch(/PROPFIND|BREW|X-ANYTHING/);
    // Buckets are cumulative and end at +Inf with the count.
    const buckets = [...text.matchAll(/^http_request_duration_seconds_bucket\{le="([^"]+)",method="POST",route="\/predict",status="200"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
    expect(buckets.at(-1)).toEqual(['+Inf', 1]);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1] as number);
  });

  it('describes every route and field in /openapi.json and /docs, from the served signature', async () => {
    const { app } = createTestApp({ maxBatchInstances: 7 });
    const document = (await (await app.request('/openapi.json')).json()) as Record<string, any>;
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(['/predict', '/feedback', '/health', '/ready', '/metrics', '/openapi.json', '/docs']);
    const request = document.components.schemas.PredictRequest;
    expect(request.properties.instances.maxItems).toBe(7);
    const customer = request.properties.instances.items;
    expect(Object.keys(customer.properties)).toEqual(model.manifest.signature.inputs.map((input) => input.name));
    expect(customer.properties.contract.enum).toEqual(['Month-to-month', 'One year', 'Two year']);
    // What a client may send: unknown fields are allowed (ignored), every input is required.
    expect(customer.additionalProperties).not.toBe(false);
    expect(customer.required).toEqual(model.manifest.signature.inputs.map((input) => input.name));
    expect(document.paths['/predict'].post.operationId).toBe('predict');
    expect(Object.keys(document.paths['/predict'].post.responses)).toEqual(['200', '400', '408', '413', '415', '422', '500', '503']);
    expect(document.paths['/ready'].head.operationId).toBe('headReady');
    expect(Object.keys(document.components.responses)).toEqual(['NotFound', 'MethodNotAllowed']);
    const page = await (await app.request('/docs')).text();
    for (const input of model.manifest.signature.inputs) expect(page).toContain(`<code>${input.name}</code>`);
    expect(page).toContain('curl -s localhost:8080/predict');
  });
});
