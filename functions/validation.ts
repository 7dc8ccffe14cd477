import type { Context } from 'hono';
import type { z } from 'zod';
import type { Admission } from './admission.ts';
import { getBodyText, getDeclaredBodyBytes, joinBody, readBody } from './batch.ts';
import { createClientGoneError, createMalformedJsonError, createNotReadyError, createTooLargeError, createUnsupportedMediaTypeError, createValidationError, type ErrorDetail } from './errors.ts';
import type { ServedModel } from './model.ts';
import { getRequestHeader } from './http.ts';
import type { AppEnv, ServingState } from './state.ts';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * Check a body's headers before reading it: JSON media type (415) and declared size (413). Returns its declared
 * size (undefined when it streams without a Content-Length) and the bytes to reserve for it: that size, or the
 * whole limit. server.ts asks the same question before it sends `100 Continue`.
 */
export function checkBodyHeaders(header: (name: string) => string | undefined, maxBodyBytes: number): { declared: number | undefined; reserve: number } {
  if (!JSON_MEDIA_TYPE.test(header('content-type') ?? '')) throw createUnsupportedMediaTypeError();
  const declared = getDeclaredBodyBytes(header);
  if (declared !== undefined && declared > maxBodyBytes) throw createTooLargeError(`The request body exceeds ${maxBodyBytes} bytes.`);
  return { declared, reserve: declared ?? maxBodyBytes };
}

/** A batch body: `instances` (customers) and, per route, arrays of the same length beside it. */
export type BatchBody = { instances: Record<string, unknown>[] };

/** A body checked against the served model: the validated body, or the problems found before checking stopped. */
export type BodyCheck<Body> = { ok: true; body: Body } | { ok: false; error: z.ZodError; more: boolean };

/** Options of {@link createBatchValidation}. */
export interface BatchValidationOptions<Body> {
  state: ServingState;
  admission: Admission;
  maxBatchInstances: number;
  maxBodyBytes: number;
  /** Check the parsed JSON against the served model, stopping once more problems are known than a 422 lists. */
  checkBody: (body: unknown, model: ServedModel) => BodyCheck<Body>;
  /**
   * Read a body straight from its bytes when it can, without JSON.parse: a fast path that may decline (undefined)
   * but never accepts what `checkBody` refuses. Declined bodies are parsed and checked.
   */
  decodeBody?: (bytes: Uint8Array, model: ServedModel) => Body | undefined;
  /** Body arrays whose length counts against `maxBatchInstances` (413 beyond it). */
  batchFields?: string[];
  /** Called for a refused body: each offending field once, and the category fields given an unknown value. */
  onRejected?: (fields: string[], unseenCategories: string[]) => void;
}

/** Answers a request whose body was checked against `model`. */
export type BatchHandler<Body> = (c: Context<AppEnv>, body: Body, model: ServedModel) => Response | Promise<Response>;

function getFieldName(path: PropertyKey[]): string {
  if (path[0] === 'instances' && path.length >= 3) return String(path[2]);
  return path.length === 0 ? 'body' : String(path[0]);
}

/**
 * Create the request validation every batch route shares, so /predict and /feedback answer bad bodies
 * identically: 503 before the model is loaded or over a budget, 415 for a body not declared as JSON, 413 over
 * the byte or instance limit, 400 for malformed or incomplete JSON and 422 naming each field
 * (`instances.3.tenure`). It wraps the route's handler, which gets the checked body and the model.
 */
export function createBatchValidation<Body>({
  state,
  admission,
  maxBatchInstances,
  maxBodyBytes,
  checkBody,
  decodeBody,
  batchFields = ['instances'],
  onRejected = () => {},
}: BatchValidationOptions<Body>): (handle: BatchHandler<Body>) => (c: Context<AppEnv>) => Promise<Response> {
  // Per served model: the category inputs, to tell an unseen category from a missing or mistyped field.
  let categoriesModel: ServedModel | undefined;
  let categories = new Set<string>();

  /** Decode, or parse and check, the body read: the checked body, or a 400, 413 or 422 with why recorded. */
  const check = (chunks: readonly Uint8Array[], model: ServedModel): Body => {
    const bytes = joinBody(chunks);
    const decoded = decodeBody?.(bytes, model);
    if (decoded !== undefined) return decoded;
    let value: unknown;
    try {
      value = JSON.parse(getBodyText(bytes));
    } catch {
      throw createMalformedJsonError();
    }
    for (const field of batchFields) {
      const items = (value as Record<string, unknown> | null)?.[field];
      if (Array.isArray(items) && items.length > maxBatchInstances) {
        onRejected([field], []);
        throw createTooLargeError(`A request may carry at most ${maxBatchInstances} customers.`, [
          { path: field, message: `expected at most ${maxBatchInstances} ${field === 'instances' ? 'customers' : field}` },
        ]);
      }
    }
    const checked = checkBody(value, model);
    if (checked.ok) return checked.body;
    if (categoriesModel !== model) {
      categories = new Set(model.manifest.signature.inputs.filter((input) => input.type === 'category').map((input) => input.name));
      categoriesModel = model;
    }
    const issues = checked.error.issues;
    const details: ErrorDetail[] = issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
    const fields = new Set(issues.map((issue) => getFieldName(issue.path)));
    // An unseen category is a string outside the allowed values (not a missing or mistyped field).
    const instances = (value as { instances?: unknown } | null)?.instances;
    const isUnseen = (path: PropertyKey[]) =>
      path[0] === 'instances' && path.length === 3 && categories.has(String(path[2])) && Array.isArray(instances) &&
      typeof (instances[path[1] as number] as Record<string, unknown> | undefined)?.[String(path[2])] === 'string';
    const unseen = new Set(issues.filter((issue) => isUnseen(issue.path)).map((issue) => String(issue.path[2])));
    onRejected([...fields], [...unseen]);
    throw createValidationError(details, { more: checked.more });
  };

  // Headers are checked before anything is read or reserved; then the body is admitted against the
  // process's budgets, read (bounded, never a 5xx when the client gives up), and validated and answered
  // when its turn of the event loop comes. One function, not a middleware and a handler: each Hono layer
  // costs every request a dispatch and its promises.
  return (handle: BatchHandler<Body>) =>
    async (c: Context<AppEnv>): Promise<Response> => {
      const model = state.model;
      if (model === undefined || state.phase === 'loading') throw createNotReadyError('The model is still loading.');
      const { declared, reserve } = checkBodyHeaders((name) => getRequestHeader(c, name), maxBodyBytes);
      const release = admission.admit(reserve);
      try {
        const chunks = await readBody(c, maxBodyBytes, declared);
        // Parsing, validating and scoring run in this turn of the event loop only if it has time left.
        const turn = admission.waitForTurn();
        try {
          if (turn !== undefined) {
            await turn;
            // A client that gave up while its request waited is not worth the work.
            if (c.req.raw.signal.aborted) throw createClientGoneError();
          }
          return await handle(c, check(chunks, model), model);
        } finally {
          admission.endWork();
        }
      } finally {
        release();
      }
    };

}
