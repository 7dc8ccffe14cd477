import { open, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createByteBudget, formatBytes, readBody, type ByteBudget } from './download.ts';
import { RegistryError } from './errors.ts';
import { fetchWithRetries, retryDownload, type RetryOptions } from './http.ts';

/** The alias table is small; a larger one is refused before it is read. */
export const MAX_ALIASES_BYTES = 1024 * 1024;
const ALIASES_FILE = 'aliases.json';

/** The files of one version, opened by {@link RegistrySource.openVersion}. */
export interface VersionFiles {
  /** Where the version is, for messages. */
  location: string;
  /** Read one file of the version into memory, within `budget`; throws {@link RegistryError}. */
  read(file: string, budget: ByteBudget): Promise<Uint8Array>;
  /** The model digest (sha256 of manifest.json) the source records beside the files, if it records one. */
  recordedDigest?: string | undefined;
  /** The OCI manifest digest that pins every file, for an OCI source. */
  ociDigest?: string | undefined;
  /** Every file's name and digest, when the source knows them before reading (an OCI manifest's layers). */
  digests?: Map<string, string> | undefined;
}

/** Options of {@link RegistrySource.openVersion}. */
export interface OpenVersionOptions {
  /** `sha256:<hex>` of the OCI manifest the version must be (only OCI sources have one). */
  ociDigest?: string | undefined;
}

/**
 * Read-only access to a registry: a model's alias table and the files of its versions. Every kind
 * of place models come from (directory, HTTP, OCI) is one implementation; what to trust is decided
 * above them (trust.ts), they only enforce the budget and redirect policy they are given.
 */
export interface RegistrySource {
  /** Where the registry is, for messages. */
  location: string;
  /** `directory` for a local folder; `http` and `oci` are remote and served only when pinned. */
  kind: 'directory' | 'http' | 'oci';
  /** Read a model's alias table (`aliases.json`); throws a `notFound` RegistryError saying why there is none. */
  readAliases(name: string): Promise<Uint8Array>;
  /** Open one version for reading its files (an OCI source fetches and checks its manifest here). */
  openVersion(name: string, version: string, options?: OpenVersionOptions): Promise<VersionFiles>;
}

function verifyPlainPath(path: string): void {
  if (path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new RegistryError(path, 'is not a plain relative registry path');
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Create a source reading a registry directory on disk. */
export function createDirectorySource(root: string): RegistrySource {
  const absolute = resolve(root);
  /** Explain a missing file by the first missing level: the registry, the model, the version or the file. */
  const explainMissing = async (path: string): Promise<RegistryError> => {
    const [name, version] = path.split('/');
    if (!(await exists(absolute))) return new RegistryError(absolute, 'registry directory does not exist', { notFound: true });
    if (!(await exists(join(absolute, name!)))) return new RegistryError(path, `not found: the registry ${absolute} has no model ${name}`, { notFound: true });
    if (version !== undefined && path.split('/').length > 2 && !(await exists(join(absolute, name!, version)))) {
      return new RegistryError(path, `not found: ${name} has no version ${version} in ${absolute}`, { notFound: true });
    }
    return new RegistryError(path, `not found in ${absolute}`, { notFound: true });
  };
  const read = async (path: string, budget: ByteBudget | undefined, maxBytes = Infinity): Promise<Uint8Array> => {
    verifyPlainPath(path);
    let file;
    try {
      file = await open(join(absolute, path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw code === 'ENOENT' ? await explainMissing(path) : new RegistryError(path, `cannot be read (${code ?? String(error)})`);
    }
    try {
      const { size } = await file.stat();
      if (size > maxBytes) throw new RegistryError(path, `is ${formatBytes(size)}, more than the ${formatBytes(maxBytes)} allowed`);
      budget?.take(size, path);
      return await file.readFile();
    } finally {
      await file.close();
    }
  };
  return {
    location: absolute,
    kind: 'directory',
    readAliases: (name) => read(`${name}/${ALIASES_FILE}`, undefined, MAX_ALIASES_BYTES),
    async openVersion(name, version, { ociDigest } = {}) {
      if (ociDigest !== undefined) throw new RegistryError(`${name}/${version}`, 'an OCI manifest digest pins oci:// registries only');
      return { location: join(absolute, name, version), read: (file, budget) => read(`${name}/${version}/${file}`, budget) };
    },
  };
}

/** Options of {@link createHttpSource}. */
export interface HttpSourceOptions extends RetryOptions {
  /** `follow` only for pinned content: a redirect to another origin could otherwise serve anything. */
  crossOriginRedirects?: 'follow' | 'refuse';
}

/**
 * Create a source reading a registry served over HTTP(S) (any static file server of a
 * `model-registry/` directory). Transient failures are retried a bounded number of times; a 404
 * is final at once; a redirect to another origin is refused unless `crossOriginRedirects` is `follow`.
 */
export function createHttpSource(baseUrl: string, { crossOriginRedirects = 'refuse', ...retry }: HttpSourceOptions = {}): RegistrySource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const read = async (path: string, budget: ByteBudget): Promise<Uint8Array> => {
    verifyPlainPath(path);
    return retryDownload(path, retry, async () => readBody(await fetchWithRetries(new URL(path, base), path, { ...retry, crossOriginRedirects }), { what: path, budget }));
  };
  return {
    location: base,
    kind: 'http',
    readAliases: (name) => read(`${name}/${ALIASES_FILE}`, createByteBudget(MAX_ALIASES_BYTES)),
    async openVersion(name, version, { ociDigest } = {}) {
      if (ociDigest !== undefined) throw new RegistryError(`${name}/${version}`, 'an OCI manifest digest pins oci:// registries only');
      return { location: new URL(`${name}/${version}/`, base).href, read: (file, budget) => read(`${name}/${version}/${file}`, budget) };
    },
  };
}
