import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Raised when a registry file cannot be read: missing, unreachable, or an unsafe path. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly path: string;
  readonly notFound: boolean;
  constructor(path: string, message: string, { notFound = false } = {}) {
    super(`${path}: ${message}`);
    this.path = path;
    this.notFound = notFound;
  }
}

/** Read-only access to a registry laid out like `model-registry/`, by path relative to its root. */
export interface RegistrySource {
  /** Where the registry is, for messages. */
  location: string;
  /** Read one file; throws {@link RegistryError}. */
  read(path: string): Promise<Uint8Array>;
}

function checkPath(path: string): void {
  if (path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new RegistryError(path, 'is not a plain relative registry path');
  }
}

/** Create a source reading a registry directory on disk. */
export function createDirectorySource(root: string): RegistrySource {
  const absolute = resolve(root);
  return {
    location: absolute,
    async read(path) {
      checkPath(path);
      try {
        return await readFile(join(absolute, path));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new RegistryError(path, code === 'ENOENT' ? `not found in ${absolute}` : `cannot be read (${code ?? String(error)})`, {
          notFound: code === 'ENOENT',
        });
      }
    },
  };
}

/** Options of {@link createHttpSource}. */
export interface HttpSourceOptions {
  /** Further attempts after a failed one (network error, timeout, 5xx, 429). */
  retries?: number;
  /** Timeout of each attempt. */
  timeoutMs?: number;
  /** Wait before the first retry, doubled for each further one. */
  backoffMs?: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Create a source reading a registry served over HTTP(S) (any static file server of a
 * `model-registry/` directory). Transient failures are retried a bounded number of times; a 404
 * is final at once.
 */
export function createHttpSource(baseUrl: string, { retries = 3, timeoutMs = 5000, backoffMs = 200 }: HttpSourceOptions = {}): RegistrySource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    location: base,
    async read(path) {
      checkPath(path);
      const url = new URL(path, base);
      let lastProblem = '';
      let attempts = 0;
      for (let attempt = 0; attempt <= retries; attempt++) {
        attempts++;
        if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
          if (response.ok) return new Uint8Array(await response.arrayBuffer());
          if (response.status === 404) throw new RegistryError(path, `not found at ${url.href}`, { notFound: true });
          lastProblem = `HTTP ${response.status}`;
          if (response.status < 500 && response.status !== 429) break;
        } catch (error) {
          if (error instanceof RegistryError) throw error;
          lastProblem = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        }
      }
      throw new RegistryError(path, `unreachable at ${url.href} after ${attempts} attempt${attempts === 1 ? '' : 's'} (${lastProblem})`);
    },
  };
}

/** Create the source for a location: an `http(s)://` base URL or a directory. */
export function createRegistrySource(location: string, httpOptions?: HttpSourceOptions): RegistrySource {
  return /^https?:\/\//i.test(location) ? createHttpSource(location, httpOptions) : createDirectorySource(location);
}
