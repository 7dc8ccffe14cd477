import { Hono } from 'hono';
import { z } from 'zod';
import type { Admission } from './admission.ts';
import { decodeBatch, validateBatch } from './batch.ts';
import type { ServedModel } from './model.ts';
import { respond } from './http.ts';
import type { AppEnv, ServingState } from './state.ts';
import type { Telemetry } from './telemetry.ts';
import { createBatchValidation } from './validation.ts';

/** Create the zod schema of a /predict body for a model: `{"instances": [customer, ...]}`, at least one. */
export function createPredictRequestSchema(model: ServedModel) {
  return z.object({
    instances: z.array(model.instanceSchema, { error: 'expected an array of customers' }).min(1, 'expected at least one customer'),
  });
}

/** The zod schema of a /predict answer (for the OpenAPI document). */
export const predictResponseSchema = z.object({
  model: z.object({ name: z.string(), version: z.string() }),
  predictions: z.array(
    z.object({
      churn: z.boolean().describe('probability >= the model threshold'),
      probability: z.number().min(0).max(1).describe('P(churn = Yes)'),
    }),
  ),
});

/**
 * The /predict answer as JSON text, written directly: the same bytes as `JSON.stringify` of
 * `{model: {name, version}, predictions: [{churn, probability}, ...]}` (a number prints the same way in both),
 * without building an object per customer first. A 1,000-customer answer
 * then costs about 0.4× what building and serialising the objects did (72 vs 172 µs, measured alone).
 */
export function formatPredictions(model: Pick<ServedModel, 'name' | 'version' | 'threshold'>, probabilities: Float64Array): string {
  const { threshold } = model;
  const items = new Array<string>(probabilities.length);
  for (let i = 0; i < probabilities.length; i++) {
    const probability = probabilities[i]!;
    // JSON has no NaN: a model that answered one would print null, as JSON.stringify does.
    items[i] = `${probability >= threshold ? '{"churn":true,"probability":' : '{"churn":false,"probability":'}${Number.isFinite(probability) ? probability : null}}`;
  }
  let head = answerHeads.get(model);
  if (head === undefined) {
    head = `{"model":${JSON.stringify({ name: model.name, version: model.version })},"predictions":[`;
    answerHeads.set(model, head);
  }
  return `${head}${items.join(',')}]}`;
}

/** The start of every answer of a model, written once per model. */
const answerHeads = new WeakMap<object, string>();

/** A checked /predict body: how many customers, and their input codes. */
type PredictBody = { count: number; codes: Float64Array };

/** Options of {@link createPredictRoutes}. */
export interface PredictOptions {
  state: ServingState;
  telemetry: Telemetry;
  admission: Admission;
  maxBatchInstances: number;
  maxBodyBytes: number;
}

/**
 * POST /predict: validate the batch against the served model's signature, score it, answer the
 * churn probability and decision per customer in request order.
 */
export function createPredictRoutes({ state, telemetry, admission, maxBatchInstances, maxBodyBytes }: PredictOptions) {
  const validated = createBatchValidation<PredictBody>({
    state,
    admission,
    maxBatchInstances,
    maxBodyBytes,
    checkBody: (body, model) => {
      const batch = validateBatch(body, model);
      return batch.ok ? { ok: true, body: { count: batch.instances.length, codes: batch.codes } } : batch;
    },
    decodeBody: (bytes, model) => decodeBatch(bytes, model, maxBatchInstances),
    onRejected: (fields, unseenCategories) => telemetry.recordValidationErrors(fields, unseenCategories),
  });

  return new Hono<AppEnv>().post(
    '/predict',
    validated((c, { count, codes }, model) => {
      const probabilities = model.predictCodes(codes, count);
      telemetry.recordPredictions(codes, model.codeWidth, probabilities, model.threshold);
      state.firstPredictSeconds ??= performance.now() / 1000;
      c.set('instances', count);
      return respond(c, formatPredictions(model, probabilities), 'application/json');
    }),
  );
}
