import { zValidator } from '@hono/zod-validator';
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { Instance } from '../lib/model/signature.ts';
import type { Admission } from './admission.ts';
import { getDeclaredBodyBytes, readBodyText, validateBatch } from './batch.ts';
import { createClientGoneError, createNotReadyError, createTooLargeError, createUnsupportedMediaTypeError, createValidationError, type ErrorDetail } from './errors.ts';
import type { ServedModel } from './model.ts';
import type { AppEnv, ServingState } from './state.ts';
import type { Telemetry } from './telemetry.ts';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

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

/** Options of {@link createPredictRoutes}. */
export interface PredictOptions {
  state: ServingState;
  telemetry: Telemetry;
  admission: Admission;
  maxBatchInstances: number;
  maxBodyBytes: number;
}

/**
 * Check a body's headers before reading it: JSON media type (415) and declared size (413). Returns the bytes
 * to reserve for it: its Content-Length, or the whole limit when it is chunked. server.ts asks the same
 * question before it sends `100 Continue`.
 */
export function checkBodyHeaders(header: (name: string) => string | undefined, maxBodyBytes: number): number {
  if (!JSON_MEDIA_TYPE.test(header('content-type') ?? '')) throw createUnsupportedMediaTypeError();
  const declared = getDeclaredBodyBytes(header);
  if (declared !== undefined && declared > maxBodyBytes) throw createTooLargeError(`The request body exceeds ${maxBodyBytes} bytes.`);
  return declared ?? maxBodyBytes;
}

type RequestBody = { instances: Record<string, unknown>[] };
type PredictInput = { in: { json: RequestBody }; out: { json: RequestBody } };


function getFieldName(path: PropertyKey[]): string {
  if (path[0] === 'instances' && path.length >= 3) return String(path[2]);
  return path.length === 0 ? 'body' : String(path[0]);
}

/**
 * POST /predict: validate the batch against the served model's signature, score it, answer the
 * churn probability and decision per customer in request order.
 */
export function createPredictRoutes({ state, telemetry, admission, maxBatchInstances, maxBodyBytes }: PredictOptions) {
  // The validator is built from the model's signature, so it is created once the model is loaded.
  let validatorModel: ServedModel | undefined;
  let validator: MiddlewareHandler<AppEnv, '/predict', PredictInput> | undefined;

  const createValidator = (model: ServedModel): MiddlewareHandler<AppEnv, '/predict', PredictInput> => {
    const categories = new Set(model.manifest.signature.inputs.filter((input) => input.type === 'category').map((input) => input.name));
    return zValidator(
      'json',
      createPredictRequestSchema(model),
      (result) => {
        if (result.success) return;
        const issues = result.error.issues;
        const details: ErrorDetail[] = issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
        const fields = new Set(issues.map((issue) => getFieldName(issue.path)));
        // An unseen category is a string outside the allowed values (not a missing or mistyped field).
        const instances = (result.data as { instances?: unknown } | null)?.instances;
        const isUnseen = (path: PropertyKey[]) =>
          path[0] === 'instances' && path.length === 3 && categories.has(String(path[2])) && Array.isArray(instances) &&
          typeof (instances[path[1] as number] as Record<string, unknown> | undefined)?.[String(path[2])] === 'string';
        const unseen = new Set(issues.filter((issue) => isUnseen(issue.path)).map((issue) => String(issue.path[2])));
        telemetry.recordValidationErrors([...fields], [...unseen]);
        throw createValidationError(details, { more: (result as { more?: boolean }).more === true });
      },
      {
        validationFunction: (_schema, value) => {
          const instances = (value as { instances?: unknown } | null)?.instances;
          if (Array.isArray(instances) && instances.length > maxBatchInstances) {
            telemetry.recordValidationErrors(['instances'], []);
            throw createTooLargeError(`A request may carry at most ${maxBatchInstances} customers.`, [
              { path: 'instances', message: `expected at most ${maxBatchInstances} customers` },
            ]);
          }
          const batch = validateBatch(value, model.instanceSchema);
          return batch.ok ? { success: true as const, data: { instances: batch.instances } } : { success: false as const, error: batch.error, more: batch.more };
        },
      },
    );
  };

  // Headers are checked before anything is read or reserved; then the body is admitted against the
  // process's budgets, read (bounded, never a 5xx when the client gives up), and validated and scored
  // when its turn of the event loop comes.
  const validate: MiddlewareHandler<AppEnv, '/predict', PredictInput> = async (c, next) => {
    const model = state.model;
    if (model === undefined || state.phase === 'loading') throw createNotReadyError('The model is still loading.');
    if (validatorModel !== model) {
      validator = createValidator(model);
      validatorModel = model;
    }
    const release = admission.admit(checkBodyHeaders((name) => c.req.header(name), maxBodyBytes));
    try {
      await readBodyText(c.req, maxBodyBytes);
      // Parsing, validating and scoring run in this turn of the event loop only if it has time left.
      const turn = admission.waitForTurn();
      try {
        if (turn !== undefined) {
          await turn;
          // A client that gave up while its request waited is not worth the work.
          if (c.req.raw.signal.aborted) throw createClientGoneError();
        }
        await validator!(c, next);
      } finally {
        admission.endWork();
      }
    } finally {
      release();
    }
  };

  return new Hono<AppEnv>().post(
    '/predict',
    validate,
    (c) => {
      const model = validatorModel!;
      // The schema admits exactly the signature's inputs, so each instance is an Instance.
      const instances = c.req.valid('json').instances as Instance[];
      const probabilities = model.predict(instances);
      const threshold = model.threshold;
      const predictions = new Array<{ churn: boolean; probability: number }>(probabilities.length);
      for (let i = 0; i < probabilities.length; i++) predictions[i] = { churn: probabilities[i]! >= threshold, probability: probabilities[i]! };
      telemetry.recordPredictions(instances, probabilities, threshold);
      state.firstPredictSeconds ??= performance.now() / 1000;
      c.set('instances', instances.length);
      return c.json({ model: { name: model.name, version: model.version }, predictions });
    },
  );
}
