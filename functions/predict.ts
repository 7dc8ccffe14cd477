import { zValidator } from '@hono/zod-validator';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { Instance } from '../lib/model/signature.ts';
import { createNotReadyError, createTooLargeError, createUnsupportedMediaTypeError, createValidationError, type ErrorDetail } from './errors.ts';
import type { ServedModel } from './model.ts';
import type { AppEnv, ServingState } from './state.ts';
import type { Telemetry } from './telemetry.ts';

/** At most this many field errors are listed in one 422 answer; the message gives the total. */
export const MAX_ERROR_DETAILS = 100;

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
  maxBatchInstances: number;
  maxBodyBytes: number;
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
export function createPredictRoutes({ state, telemetry, maxBatchInstances, maxBodyBytes }: PredictOptions) {
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
        const details: ErrorDetail[] = issues.slice(0, MAX_ERROR_DETAILS).map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
        const fields = new Set(issues.map((issue) => getFieldName(issue.path)));
        // An unseen category is a string outside the allowed values (not a missing or mistyped field).
        const instances = (result.data as { instances?: unknown }).instances;
        const isUnseen = (path: PropertyKey[]) =>
          path[0] === 'instances' && path.length === 3 && categories.has(String(path[2])) && Array.isArray(instances) &&
          typeof (instances[path[1] as number] as Record<string, unknown> | undefined)?.[String(path[2])] === 'string';
        const unseen = new Set(issues.filter((issue) => isUnseen(issue.path)).map((issue) => String(issue.path[2])));
        telemetry.recordValidationErrors([...fields], [...unseen]);
        throw createValidationError(details, issues.length);
      },
      {
        validationFunction: (schema, value) => {
          const instances = (value as { instances?: unknown } | null)?.instances;
          if (Array.isArray(instances) && instances.length > maxBatchInstances) {
            telemetry.recordValidationErrors(['instances'], []);
            throw createTooLargeError(`A request may carry at most ${maxBatchInstances} customers.`, [
              { path: 'instances', message: `expected at most ${maxBatchInstances} customers` },
            ]);
          }
          return schema.safeParse(value);
        },
      },
    );
  };

  const tooLarge = () => createTooLargeError(`The request body exceeds ${maxBodyBytes} bytes.`);
  const streamingLimit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw tooLarge();
    },
  });

  // One middleware checks the media type and the size from the headers, synchronously, then runs
  // the zod validator: every extra async layer costs each request a few promises. With a
  // Content-Length the body stays on the adapter's fast path; only a chunked body is counted as it
  // streams (hono's bodyLimit).
  const validate: MiddlewareHandler<AppEnv, '/predict', PredictInput> = (c, next) => {
    const model = state.model;
    if (model === undefined || state.phase === 'loading') throw createNotReadyError('The model is still loading.');
    if (validatorModel !== model) {
      validator = createValidator(model);
      validatorModel = model;
    }
    if (!JSON_MEDIA_TYPE.test(c.req.header('content-type') ?? '')) throw createUnsupportedMediaTypeError();
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) {
      return streamingLimit(c, async () => {
        await validator!(c, next);
      });
    }
    if (Number(length) > maxBodyBytes) throw tooLarge();
    return validator!(c, next);
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
