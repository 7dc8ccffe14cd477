import { Hono } from 'hono';
import { z } from 'zod';
import type { Admission } from './admission.ts';
import { MAX_ERROR_DETAILS, validateBatch, type InstanceValidator } from './batch.ts';
import type { ServedModel } from './model.ts';
import { createQualityTally } from './quality.ts';
import { respondJson } from './http.ts';
import type { AppEnv, ServingState } from './state.ts';
import type { Telemetry } from './telemetry.ts';
import { createBatchValidation, type BatchBody, type BodyCheck } from './validation.ts';

const OUTCOME_EXPECTED = 'expected true (churned) or false (stayed)';

/**
 * Create the zod schema of a /feedback body for a model, for the OpenAPI document: `{"instances": [customer, ...],
 * "outcomes": [true | false, ...]}`, one outcome per customer in the same order, `true` for a customer who churned.
 */
export function createFeedbackRequestSchema(model: ServedModel) {
  return z.object({
    instances: z.array(model.instanceSchema).min(1),
    outcomes: z.array(z.boolean()).min(1).describe('the observed outcome of each customer, in the same order (as many as customers): true if the customer churned'),
  });
}

type FeedbackBody = BatchBody & { codes: Float64Array; outcomes: boolean[] };

/**
 * Check a /feedback body: the customers as /predict checks them (one by one, stopping early), then the outcomes,
 * one boolean per customer. Stops once more than `maxIssues` problems are known, like `validateBatch`.
 */
export function checkFeedbackBody(body: unknown, validator: InstanceValidator, { maxIssues = MAX_ERROR_DETAILS } = {}): BodyCheck<FeedbackBody> {
  const batch = validateBatch(body, validator, { maxIssues });
  // A body that is not an object is refused as a whole.
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return batch as BodyCheck<FeedbackBody>;
  const issues: z.core.$ZodIssue[] = batch.ok ? [] : [...batch.error.issues];
  const refuse = (path: PropertyKey[], message: string) => issues.push({ code: 'custom', path, message, input: undefined });
  const { instances, outcomes } = body as { instances?: unknown; outcomes?: unknown };
  if (outcomes === undefined) refuse(['outcomes'], 'required');
  else if (!Array.isArray(outcomes)) refuse(['outcomes'], 'expected an array of outcomes, true (churned) or false (stayed)');
  else {
    for (let i = 0; i < outcomes.length && issues.length <= maxIssues; i++) if (typeof outcomes[i] !== 'boolean') refuse(['outcomes', i], OUTCOME_EXPECTED);
    if (Array.isArray(instances) && instances.length !== outcomes.length) refuse(['outcomes'], 'expected exactly one outcome per customer');
  }
  if (batch.ok && issues.length === 0) return { ok: true, body: { instances: batch.instances, codes: batch.codes, outcomes: outcomes as boolean[] } };
  return { ok: false, error: new z.ZodError(issues.slice(0, maxIssues)), more: (!batch.ok && batch.more) || issues.length > maxIssues };
}

const nullableRatio = z.number().min(0).max(1).nullable();

/** The zod schema of a /feedback answer (for the OpenAPI document). */
export const feedbackResponseSchema = z.object({
  model: z.object({ name: z.string(), version: z.string() }),
  metrics: z
    .object({
      n: z.int().describe('customers in this batch'),
      churned: z.int().describe('of which churned'),
      rocAuc: nullableRatio.describe('ROC AUC of the scores against the outcomes; null unless both outcomes occur'),
      accuracy: nullableRatio.describe('share of customers whose decision (probability >= threshold) matched the outcome'),
      precision: nullableRatio.describe('share of flagged customers who churned; null when none was flagged'),
      recall: nullableRatio.describe('share of churners who were flagged; null when none churned'),
      brier: nullableRatio.describe('mean of (probability - outcome)^2'),
      meanProbability: nullableRatio.describe('mean predicted churn probability'),
      churnRate: nullableRatio.describe('observed churn rate'),
    })
    .describe("this batch's own quality figures for the served version"),
});

/** Options of {@link createFeedbackRoutes}. */
export interface FeedbackOptions {
  state: ServingState;
  telemetry: Telemetry;
  admission: Admission;
  maxBatchInstances: number;
  maxBodyBytes: number;
}

/**
 * POST /feedback: customers with their observed outcome. The served version scores them again (the route keeps
 * no state of earlier predictions, so any pod of any age can take it), live quality is recorded for /health and
 * Prometheus, and the answer gives the batch's own figures.
 */
export function createFeedbackRoutes({ state, telemetry, admission, maxBatchInstances, maxBodyBytes }: FeedbackOptions) {
  const validated = createBatchValidation<FeedbackBody>({
    state,
    admission,
    maxBatchInstances,
    maxBodyBytes,
    checkBody: (body, model) => checkFeedbackBody(body, model),
    batchFields: ['instances', 'outcomes'],
  });

  return new Hono<AppEnv>().post(
    '/feedback',
    validated((c, { instances, codes, outcomes }, model) => {
      const probabilities = model.predictCodes(codes, instances.length);
      telemetry.recordFeedback(probabilities, outcomes);
      // A batch is bounded by the instance limit, so its scores are counted exactly.
      const batch = createQualityTally(model.threshold, { maxExactScores: Infinity });
      for (let i = 0; i < probabilities.length; i++) batch.add(probabilities[i]!, outcomes[i]!);
      c.set('instances', instances.length);
      return respondJson(c, { model: { name: model.name, version: model.version }, metrics: batch.getMetrics() });
    }),
  );
}
