import { Hono } from 'hono';
import { z } from 'zod';
import type { InputSpec } from '../lib/model/signature.ts';
import { createNotReadyError } from './errors.ts';
import { createFeedbackRequestSchema, feedbackResponseSchema } from './feedback.ts';
import { createExampleInstance, type ServedModel } from './model.ts';
import { createPredictRequestSchema, predictResponseSchema } from './predict.ts';
import { respond } from './http.ts';
import type { AppEnv, ServingState } from './state.ts';

const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('machine-readable, e.g. validation_failed'),
    message: z.string(),
    details: z.array(z.object({ path: z.string().describe('e.g. instances.3.tenure'), message: z.string() })),
  }),
});

const ERRORS = [
  ['400', 'malformed_json, incomplete_body', 'the body is not valid JSON, or ended before its declared length'],
  ['404', 'not_found', 'no route has this path'],
  ['405', 'method_not_allowed', 'the route exists with another method (see the Allow header)'],
  ['408', 'request_timeout', 'the headers or the body did not arrive in time (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS)'],
  ['413', 'payload_too_large', 'the body exceeds the byte limit or the batch the instance limit'],
  ['415', 'unsupported_media_type', 'the body is not sent as application/json'],
  ['422', 'validation_failed', 'the JSON does not match the signature; details name each field (at most 100)'],
  ['500', 'internal_error', 'an unexpected failure, logged under the request id (never caused by what a client sends)'],
  ['503', 'not_ready, overloaded', 'the model is loading, the server is draining, or a budget of the process is spent; retry after Retry-After'],
] as const;

/** Errors a POST /predict or /feedback may answer (404 and 405 concern other paths and methods). */
const PREDICT_ERRORS = ['400', '408', '413', '415', '422', '500', '503'];

const ROUTES = [
  ['POST', '/predict', 'churn probability and decision for 1 to N customers'],
  ['POST', '/feedback', "observed outcomes of 1 to N customers; records live quality, answers the batch's ROC AUC, accuracy, precision, recall, Brier"],
  ['GET', '/health', 'liveness; served model, cold start, memory, admission, prediction telemetry, live quality and input drift; never refused'],
  ['GET', '/ready', 'readiness; 200 once the model is loaded, verified and warm; 503 while loading, draining or shedding load'],
  ['GET', '/metrics', 'Prometheus metrics'],
  ['GET', '/openapi.json', 'this API as OpenAPI 3.1'],
  ['GET', '/docs', 'this page'],
] as const;

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
const errorResponse = (status: string) => {
  const [, code, text] = ERRORS.find(([listed]) => listed === status)!;
  return { description: `${code}: ${text}`, content: errorContent };
};
const retryAfter = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } };

/** A GET route and its HEAD twin (the same answer without a body), each with an operationId. */
function getAndHead(name: string, summary: string, ok: { description: string; content: Record<string, unknown> }, more: Record<string, unknown> = {}) {
  const internal = { '500': errorResponse('500') };
  return {
    get: { operationId: `get${name}`, summary, responses: { '200': ok, ...more, ...internal } },
    head: { operationId: `head${name}`, summary: `${summary} (headers only)`, responses: { '200': { description: ok.description }, ...internal } },
  };
}

/**
 * The JSON schema of a batch request body in input mode (what a client may send, so unknown fields are allowed:
 * they are ignored), without `$schema`, each batch array capped at `maxItems`.
 */
function createBatchRequestJsonSchema(schema: z.ZodType, batchFields: string[], maxItems: number): Record<string, unknown> {
  const { $schema, ...request } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as { $schema?: string; properties: Record<string, Record<string, unknown>> };
  for (const field of batchFields) request.properties[field]!.maxItems = maxItems;
  return request;
}

/** Create the OpenAPI 3.1 document of the service for a model, from the same zod schemas that validate requests. */
export function createOpenApiDocument(model: ServedModel, maxBatchInstances: number): Record<string, unknown> {
  const request = createBatchRequestJsonSchema(createPredictRequestSchema(model), ['instances'], maxBatchInstances);
  const feedbackRequest = createBatchRequestJsonSchema(createFeedbackRequestSchema(model), ['instances', 'outcomes'], maxBatchInstances);
  const example = { instances: [createExampleInstance(model.manifest)] };
  const requestErrors = Object.fromEntries(PREDICT_ERRORS.map((status) => [status, status === '503' ? { ...errorResponse(status), headers: retryAfter } : errorResponse(status)]));
  const { $schema, ...response } = z.toJSONSchema(predictResponseSchema) as Record<string, unknown>;
  const { $schema: $feedbackSchema, ...feedbackResponse } = z.toJSONSchema(feedbackResponseSchema) as Record<string, unknown>;
  const { $schema: $errorSchema, ...error } = z.toJSONSchema(errorBodySchema) as Record<string, unknown>;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Telco churn prediction',
      version: model.version,
      description: `Scores customers with ${model.name} ${model.version} (${model.manifest.algorithm.name}, digest ${model.digest}). ${model.manifest.description} Any other path answers 404 and a known path with another method 405 with an Allow header (components.responses).`,
    },
    paths: {
      '/predict': {
        post: {
          operationId: 'predict',
          summary: 'Predict churn for a batch of customers',
          description: `Answers P(churn = Yes) and churn = probability >= ${model.threshold} for each customer, in request order. Unknown fields are ignored.`,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictRequest' }, example } } },
          responses: {
            '200': { description: 'one prediction per customer, in order', content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictResponse' } } } },
            ...requestErrors,
          },
        },
      },
      '/feedback': {
        post: {
          operationId: 'feedback',
          summary: 'Report the observed outcome of scored customers',
          description:
            "Scores the customers with the served version, records each score with its outcome (true: churned) for the live quality on /health and /metrics, and answers this batch's own figures. Checked and refused exactly like /predict; `outcomes` must have one entry per customer, in the same order (a 422 names `outcomes` otherwise).",
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/FeedbackRequest' }, example: { ...example, outcomes: [true] } } },
          },
          responses: {
            '200': { description: "the batch's n, ROC AUC, accuracy, precision, recall and Brier", content: { 'application/json': { schema: { $ref: '#/components/schemas/FeedbackResponse' } } } },
            ...requestErrors,
          },
        },
      },
      '/health': getAndHead('Health', 'Liveness and telemetry', { description: 'status, model, cold start, process, admission and telemetry (predictions, latency, live quality, input drift)', content: { 'application/json': { schema: { type: 'object' } } } }),
      '/ready': getAndHead(
        'Ready',
        'Readiness',
        { description: 'ready to serve', content: { 'application/json': { schema: { type: 'object' } } } },
        { '503': { ...errorResponse('503'), headers: retryAfter } },
      ),
      '/metrics': getAndHead('Metrics', 'Prometheus metrics', { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }),
      '/openapi.json': getAndHead('OpenApi', 'This document', { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } }),
      '/docs': getAndHead('Docs', 'Human-readable API documentation', { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } }),
    },
    components: {
      schemas: { PredictRequest: request, PredictResponse: response, FeedbackRequest: feedbackRequest, FeedbackResponse: feedbackResponse, Error: error },
      responses: {
        NotFound: errorResponse('404'),
        MethodNotAllowed: { ...errorResponse('405'), headers: { Allow: { description: 'the methods the path accepts', schema: { type: 'string' } } } },
      },
    },
  };
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function describeInput(input: InputSpec): [string, string] {
  switch (input.type) {
    case 'flag':
      return ['integer', '0 or 1'];
    case 'integer':
      return ['integer', `>= ${input.minimum} (training saw ${input.observed.min}–${input.observed.max})`];
    case 'number':
      return [input.nullable ? 'number or null' : 'number', `>= ${input.minimum} (training saw ${input.observed.min}–${input.observed.max})`];
    case 'category':
      return ['string', input.values.map((value) => `"${value}"`).join(', ')];
  }
}

/** Create the human-readable documentation page: routes, the customer fields, errors and a curl example. */
export function createDocsPage(model: ServedModel, maxBatchInstances: number): string {
  const example = JSON.stringify({ instances: [createExampleInstance(model.manifest)] });
  const row = (cells: readonly string[]) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Telco churn prediction API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
code,pre{background:#f4f4f4;border-radius:4px}pre{padding:.8rem;overflow-x:auto}</style></head>
<body>
<h1>Telco churn prediction API</h1>
<p>Serving <strong>${escapeHtml(model.name)} ${escapeHtml(model.version)}</strong> (${escapeHtml(model.manifest.algorithm.name)}, threshold ${model.threshold}),
digest <code>${escapeHtml(model.digest)}</code>. ${escapeHtml(model.manifest.description)} Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<h2>Routes</h2>
<table><tr><th>method</th><th>path</th><th>what</th></tr>
${ROUTES.map(([method, path, text]) => row([method, `<code>${path}</code>`, escapeHtml(text)])).join('\n')}
</table>
<h2>POST /predict</h2>
<p>Body <code>{"instances": [customer, ...]}</code> with 1 to ${maxBatchInstances} customers, <code>Content-Type: application/json</code>.
Answer <code>{"model": {"name", "version"}, "predictions": [{"churn", "probability"}, ...]}</code> in request order, where
<code>probability</code> is P(churn = Yes) and <code>churn</code> is <code>probability &gt;= ${model.threshold}</code>. Every field below is required;
unknown fields are ignored.</p>
<pre>curl -s localhost:8080/predict -H 'content-type: application/json' -d '${escapeHtml(example)}'</pre>
<table><tr><th>field</th><th>type</th><th>allowed</th><th>meaning</th></tr>
${model.manifest.signature.inputs.map((input) => row([`<code>${input.name}</code>`, ...describeInput(input).map(escapeHtml), escapeHtml(input.description)])).join('\n')}
</table>
<h2>POST /feedback</h2>
<p>Body <code>{"instances": [customer, ...], "outcomes": [true | false, ...]}</code>: customers scored earlier and what happened to
them, one outcome per customer in the same order, <code>true</code> for a customer who churned. The served version scores them
again and records score and outcome, so live ROC AUC, accuracy, precision, recall and Brier appear on <code>/health</code>
(<code>telemetry.quality</code>, beside the model card's test values) and in <code>/metrics</code>. The answer gives this batch's own figures:
<code>{"model": {"name", "version"}, "metrics": {"n", "churned", "rocAuc", "accuracy", "precision", "recall", "brier", "meanProbability", "churnRate"}}</code>,
<code>null</code> where a figure is undefined (ROC AUC with one outcome only). Errors as for <code>/predict</code>, e.g. <code>outcomes.2</code>.</p>
<pre>curl -s localhost:8080/feedback -H 'content-type: application/json' -d '${escapeHtml(JSON.stringify({ instances: [createExampleInstance(model.manifest)], outcomes: [true] }))}'</pre>
<h2>Errors</h2>
<p>Every error is <code>{"error": {"code", "message", "details": [{"path", "message"}]}}</code>; messages name fields, never echo values.</p>
<table><tr><th>status</th><th>code</th><th>when</th></tr>
${ERRORS.map(([status, code, text]) => row([status, `<code>${code}</code>`, escapeHtml(text)])).join('\n')}
</table>
</body></html>
`;
}

/** GET /openapi.json and GET /docs, generated once per served model. */
export function createDocsRoutes({ state, maxBatchInstances }: { state: ServingState; maxBatchInstances: number }) {
  let documented: ServedModel | undefined;
  let openApi = '';
  let page = '';
  const getModel = (): ServedModel => {
    const model = state.model;
    if (model === undefined) throw createNotReadyError('The model is still loading.');
    if (model !== documented) {
      openApi = JSON.stringify(createOpenApiDocument(model, maxBatchInstances));
      page = createDocsPage(model, maxBatchInstances);
      documented = model;
    }
    return model;
  };
  return new Hono<AppEnv>()
    .get('/openapi.json', (c) => {
      getModel();
      return respond(c, openApi, 'application/json');
    })
    .get('/docs', (c) => {
      getModel();
      return respond(c, page, 'text/html; charset=UTF-8');
    });
}
