/** One problem with a request, located by a dotted path such as `instances.3.tenure`. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/** An error a client caused or should know about; `app.onError` turns it into the JSON error body. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: 400 | 404 | 405 | 408 | 413 | 415 | 422 | 503;
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly headers: Record<string, string>;
  constructor(
    status: ApiError['status'],
    code: string,
    message: string,
    { details = [], headers = {} }: { details?: ErrorDetail[]; headers?: Record<string, string> } = {},
  ) {
    // An answer to a client, not a fault: no stack trace, whose capture cost ~25 µs per 503 under a flood.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

/** The body is not JSON. */
export const createMalformedJsonError = () => new ApiError(400, 'malformed_json', 'The request body is not valid JSON.');

/** The body ended before its declared length: the client closed the connection mid-body. */
export const createIncompleteBodyError = () => new ApiError(400, 'incomplete_body', 'The request body ended before it was complete.');

/** The client closed its connection while its request waited for its turn: nobody is left to answer. */
export const createClientGoneError = () => new ApiError(400, 'client_closed_request', 'The client closed the connection before its request was answered.');

/** The request was not received within the server's time limit (headers and body). */
export const createRequestTimeoutError = (timeoutMs: number) =>
  new ApiError(408, 'request_timeout', `The request was not received within ${timeoutMs} ms.`);

/** The body is not declared as JSON. */
export const createUnsupportedMediaTypeError = () =>
  new ApiError(415, 'unsupported_media_type', 'The request body must be JSON, sent with Content-Type: application/json.');

/** The body or the batch exceeds a limit. */
export const createTooLargeError = (message: string, details: ErrorDetail[] = []) => new ApiError(413, 'payload_too_large', message, { details });

/**
 * The JSON does not match the schema; each detail names one field. `more` says that checking stopped at the
 * listed problems (validation stops there, so a bad batch costs no more than a good one).
 */
export const createValidationError = (details: ErrorDetail[], { more = false } = {}) =>
  new ApiError(
    422,
    'validation_failed',
    more
      ? `The request does not match the model's input schema (more than ${details.length} problems; checking stopped at the first ${details.length}).`
      : `The request does not match the model's input schema (${details.length} problem${details.length === 1 ? '' : 's'}).`,
    { details },
  );

/** No route has this path. */
export const createNotFoundError = () => new ApiError(404, 'not_found', 'No route matches this path. See /docs for the API.');

/** The path exists but not with this method. */
export const createMethodNotAllowedError = (allowed: string[]) =>
  new ApiError(405, 'method_not_allowed', `This route accepts ${allowed.join(', ')}.`, { headers: { allow: allowed.join(', ') } });

/** The model is not loaded yet, or the server is shutting down. */
export const createNotReadyError = (message: string) => new ApiError(503, 'not_ready', message, { headers: { 'retry-after': '1' } });

/** A budget of the process (requests or body bytes in flight, busy time) is spent: retry shortly, ideally elsewhere. */
export const createOverloadedError = (message: string) => new ApiError(503, 'overloaded', message, { headers: { 'retry-after': '1' } });

/** The JSON error body every failure answers with. */
export function createErrorBody(code: string, message: string, details: ErrorDetail[] = []): { error: { code: string; message: string; details: ErrorDetail[] } } {
  return { error: { code, message, details } };
}
