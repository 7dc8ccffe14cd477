import { RegistryError } from './errors.ts';

/** How hard a remote source tries: further attempts after a failed one, and each attempt's timeout. */
export interface RetryOptions {
  /** Further attempts after a failed one (network error, timeout, 5xx, 429). */
  retries?: number;
  /** Timeout of each attempt, headers and body. */
  timeoutMs?: number;
  /** Wait before the first retry, doubled for each further one. */
  backoffMs?: number;
}

/** Options of {@link fetchWithRetries}. */
export interface FetchOptions extends RetryOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT';
  /** Sent to the first URL's origin only; a redirect to another origin carries `publicHeaders` alone. */
  headers?: Record<string, string>;
  /** Headers safe to send anywhere (Accept, User-Agent). */
  publicHeaders?: Record<string, string>;
  body?: Uint8Array | string;
  /** `refuse` fails on a redirect to another origin (unpinned content); `follow` follows it without credentials. */
  crossOriginRedirects?: 'follow' | 'refuse';
  /** Status codes returned as they are instead of being retried or failed (401 for auth challenges, 404...). */
  passStatuses?: number[];
}

/** Redirects followed per request at the most. */
export const MAX_REDIRECTS = 5;
const DEFAULTS = { retries: 3, timeoutMs: 10_000, backoffMs: 200 };

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The reason a fetch failed, as short as the error allows (`connect ECONNREFUSED 127.0.0.1:5000`). */
function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    return error.cause instanceof Error ? error.cause.message : error.message;
  }
  return String(error);
}

/**
 * Fetch `url`, retrying network errors, timeouts, 5xx and 429 a bounded number of times with
 * exponential back-off, and following redirects by hand so that credentials never leave the
 * first URL's origin. Any other status fails at once (404 with `notFound`) unless listed in
 * `passStatuses`. `what` names the request in messages.
 */
export async function fetchWithRetries(url: URL, what: string, options: FetchOptions = {}): Promise<Response> {
  const { retries, timeoutMs, backoffMs } = { ...DEFAULTS, ...options };
  const { method = 'GET', headers = {}, publicHeaders = {}, body, crossOriginRedirects = 'refuse', passStatuses = [] } = options;
  let lastProblem = '';
  let attempts = 0;
  for (let attempt = 0; attempt <= retries; attempt++) {
    attempts++;
    if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
    const signal = AbortSignal.timeout(timeoutMs);
    let target = url;
    try {
      for (let hop = 0; ; hop++) {
        const sameOrigin = target.origin === url.origin;
        const response = await fetch(target, {
          method,
          headers: sameOrigin ? { ...publicHeaders, ...headers } : publicHeaders,
          ...(body === undefined ? {} : { body }),
          redirect: 'manual',
          signal,
        });
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location !== null && !passStatuses.includes(response.status)) {
          await response.body?.cancel();
          if (hop >= MAX_REDIRECTS) throw new RegistryError(what, `more than ${MAX_REDIRECTS} redirects from ${url.href}`);
          const next = new URL(location, target);
          if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new RegistryError(what, `redirects to a ${next.protocol} URL; not followed`);
          if (target.protocol === 'https:' && next.protocol === 'http:') throw new RegistryError(what, `redirects from https to plain http (${next.origin}); not followed`);
          if (next.origin !== url.origin && crossOriginRedirects === 'refuse') {
            throw new RegistryError(what, `redirects to another origin (${next.origin}); not followed for content that is not pinned by a digest`);
          }
          target = next;
          continue;
        }
        if (response.ok || passStatuses.includes(response.status)) return response;
        const detail = await readErrorDetail(response);
        if (response.status === 404) throw new RegistryError(what, `not found at ${target.href}${detail}`, { notFound: true });
        lastProblem = `HTTP ${response.status}${detail}`;
        if (response.status < 500 && response.status !== 429) throw new RegistryError(what, `${target.href} answered ${lastProblem}`);
        break;
      }
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      lastProblem = describeFailure(error);
    }
  }
  throw new RegistryError(what, `unreachable at ${url.href} after ${attempts} attempt${attempts === 1 ? '' : 's'} (${lastProblem})`);
}

/**
 * Run a download, a fetch and the read of its body, again when the connection fails while the body streams (a
 * reset, a registry restarted mid-download, the attempt's timeout): {@link fetchWithRetries} retries what fails up
 * to the answer's headers, this what fails after them, with the same bound and back-off. A refusal (a
 * RegistryError: status, size, digest, byte limit) is final.
 */
export async function retryDownload<T>(what: string, options: RetryOptions, download: () => Promise<T>): Promise<T> {
  const { retries, backoffMs } = { ...DEFAULTS, ...options };
  for (let attempt = 0; ; attempt++) {
    try {
      return await download();
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      if (attempt >= retries) throw new RegistryError(what, `connection lost while downloading, ${attempt + 1} attempts (${describeFailure(error)})`);
      await sleep(backoffMs * 2 ** attempt);
    }
  }
}

/** Error bodies are read this far at the most. */
const MAX_ERROR_BODY_BYTES = 8192;

/** The first error code and message of an OCI error body (`: MANIFEST_UNKNOWN manifest unknown`), or nothing. */
async function readErrorDetail(response: Response): Promise<string> {
  let text = '';
  if (response.body !== null) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      while (text.length < MAX_ERROR_BODY_BYTES) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // A body that breaks off says nothing more than the status.
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
  try {
    const first = (JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] }).errors?.[0];
    if (first !== undefined && typeof first.code === 'string') return `: ${first.code}${typeof first.message === 'string' ? ` ${first.message}` : ''}`;
  } catch {
    // Not an OCI error body: the status says enough.
  }
  return '';
}
