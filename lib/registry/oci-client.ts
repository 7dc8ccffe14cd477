import { computeDigest } from '../model/artifact.ts';
import { createByteBudget, readBody, type ByteBudget } from './download.ts';
import type { Credentials } from './docker-config.ts';
import { RegistryError } from './errors.ts';
import { fetchWithRetries, retryDownload, type FetchOptions, type RetryOptions } from './http.ts';

/** The manifest media type `oras push` writes (OCI image manifest, used for artifacts since image-spec 1.1). */
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
/** Manifests larger than this are refused, as Distribution refuses to store them (4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
// OCI distribution spec, "name" and "reference" grammar.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPOSITORY_PATTERN = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** One blob as a manifest lists it. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** A fetched manifest: its exact bytes, their digest, and the parsed document. */
export interface FetchedManifest {
  bytes: Uint8Array;
  digest: string;
  manifest: { mediaType?: string; artifactType?: string; config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> };
}

/** Where an `oci://host[:port]/path` location points. */
export interface OciLocation {
  /** `host[:port]`, as Docker's config.json names it. */
  host: string;
  /** `https://host[:port]`, or `http://` with plain HTTP. */
  origin: string;
  /** The repository path under which each model is a repository (`models` in `oci://ghcr.io/models`); may be empty. */
  prefix: string;
}

/** True for a string that looks like an OCI location (`oci://...`). */
export function isOciLocation(location: string): boolean {
  return /^oci:\/\//i.test(location);
}

/** Parse `oci://host[:port][/path]`; throws a RegistryError naming what is wrong. */
export function parseOciLocation(location: string, { plainHttp = false }: { plainHttp?: boolean } = {}): OciLocation {
  let url: URL;
  try {
    url = new URL(location.replace(/^oci:/i, 'https:'));
  } catch {
    throw new RegistryError(location, 'is not a valid oci://host[:port]/path location');
  }
  if (url.username !== '' || url.password !== '') throw new RegistryError('oci://…', 'must not carry credentials; put them in a Docker config.json');
  if (url.search !== '' || url.hash !== '') throw new RegistryError(location, 'must not have a query or a fragment');
  const prefix = url.pathname.replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && !REPOSITORY_PATTERN.test(prefix)) throw new RegistryError(location, `path "${prefix}" is not a valid OCI repository path (lower-case components)`);
  return { host: url.host, origin: `${plainHttp ? 'http' : 'https'}://${url.host}`, prefix };
}

/** The repository of a model under a location: `<prefix>/<name>`. */
export function getRepository(location: OciLocation, name: string): string {
  const repository = location.prefix === '' ? name : `${location.prefix}/${name}`;
  if (!REPOSITORY_PATTERN.test(repository)) throw new RegistryError(repository, 'is not a valid OCI repository name');
  return repository;
}

/** Throw unless `reference` is a tag or a `sha256:` digest. */
export function verifyReference(reference: string): void {
  if (!TAG_PATTERN.test(reference) && !DIGEST_PATTERN.test(reference)) throw new RegistryError(reference, 'is not a valid OCI tag or sha256 digest');
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse `Bearer realm="…",service="…",scope="…"` (RFC 7235 auth-params, quoted or not). */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  for (const param of match[2]!.matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[param[1]!.toLowerCase()] = param[2] === undefined ? param[3]! : param[2].replace(/\\(.)/g, '$1');
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

/** Options of {@link createOciClient}. */
export interface OciClientOptions extends RetryOptions {
  location: OciLocation;
  /** From a Docker config.json; without them the client asks for anonymous tokens. */
  credentials?: Credentials | undefined;
}

/** What a client talks: the OCI distribution API, over fetch. */
export interface OciClient {
  /** Fetch a manifest by tag or digest; by digest, its bytes must hash to that digest. */
  fetchManifest(repository: string, reference: string): Promise<FetchedManifest>;
  /** Fetch a manifest by tag, or undefined when the tag does not exist. */
  fetchManifestIfPresent(repository: string, reference: string): Promise<FetchedManifest | undefined>;
  /** Fetch a blob, checking its size and digest against `descriptor` while it streams, within `budget`. */
  fetchBlob(repository: string, descriptor: Descriptor, budget: ByteBudget, what: string): Promise<Uint8Array>;
  /** Upload a blob unless the repository has it already. */
  pushBlob(repository: string, bytes: Uint8Array): Promise<void>;
  /** Put a manifest under a tag; returns its digest. */
  pushManifest(repository: string, tag: string, bytes: Uint8Array): Promise<string>;
}

/**
 * Create a client of one OCI registry. Authentication follows the registry's 401 challenge: Basic
 * with the given credentials, or a Bearer token from the realm it names (anonymous, or with the
 * credentials as Basic: Distribution's token protocol). Credentials and tokens go to the registry's
 * origin and the token realm only, never along a blob redirect to another origin (GHCR sends blobs
 * from a CDN: followed bare, and safe because every blob is digest-checked).
 */
export function createOciClient({ location, credentials, ...retry }: OciClientOptions): OciClient {
  const origin = location.origin;
  const display = `oci://${location.host}`;
  const tokens = new Map<string, string>();
  let basic = false;
  const basicHeader = credentials === undefined ? undefined : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;

  const getAuthorization = (scope: string): string | undefined => {
    if (basic) return basicHeader;
    const token = tokens.get(scope);
    return token === undefined ? undefined : `Bearer ${token}`;
  };

  const fetchToken = async (challenge: Challenge, scope: string, what: string): Promise<void> => {
    const realm = challenge.params.realm;
    if (realm === undefined) throw new RegistryError(what, 'the registry asks for a Bearer token without naming a realm');
    const url = new URL(realm);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && origin.startsWith('http:'))) {
      throw new RegistryError(what, `the token realm ${url.origin} is not https; credentials are not sent there`);
    }
    if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', challenge.params.scope ?? scope);
    const response = await fetchWithRetries(url, `token for ${display}`, {
      ...retry,
      ...(basicHeader === undefined ? {} : { headers: { authorization: basicHeader } }),
      passStatuses: [401, 403],
    });
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryError(what, credentials === undefined ? `the token server refused anonymous access (HTTP ${response.status}); give credentials in a Docker config.json` : `the token server refused the credentials for ${location.host} (HTTP ${response.status})`);
    }
    const body = JSON.parse(new TextDecoder().decode(await readBody(response, { what: `token for ${display}`, budget: createByteBudget(64 * 1024) }))) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') throw new RegistryError(what, `the token server at ${url.origin} answered no token`);
    tokens.set(scope, token);
  };

  /** One request to the registry, answering its auth challenge once. */
  const request = async (path: string, what: string, scope: string, options: FetchOptions = {}): Promise<Response> => {
    const url = new URL(path, origin);
    for (let attempt = 0; ; attempt++) {
      const authorization = url.origin === origin ? getAuthorization(scope) : undefined;
      const response = await fetchWithRetries(url, what, {
        ...retry,
        ...options,
        headers: { ...options.headers, ...(authorization === undefined ? {} : { authorization }) },
        passStatuses: [401, ...(options.passStatuses ?? [])],
      });
      if (response.status !== 401) return response;
      await response.body?.cancel();
      const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
      if (attempt > 0 || challenge === undefined) {
        throw new RegistryError(what, credentials === undefined ? 'the registry refused anonymous access (HTTP 401); give credentials in a Docker config.json (DOCKER_CONFIG)' : `the registry refused the credentials for ${location.host} (HTTP 401)`);
      }
      if (challenge.scheme === 'basic') {
        if (basicHeader === undefined) throw new RegistryError(what, 'the registry asks for a user name and password (HTTP 401 Basic); give them in a Docker config.json (DOCKER_CONFIG)');
        basic = true;
      } else if (challenge.scheme === 'bearer') {
        await fetchToken(challenge, scope, what);
      } else {
        throw new RegistryError(what, `the registry asks for ${challenge.scheme} authentication, which is not supported`);
      }
    }
  };

  const pull = (repository: string) => `repository:${repository}:pull`;
  const push = (repository: string) => `repository:${repository}:pull,push`;

  const fetchManifestResponse = async (repository: string, reference: string, what: string, passStatuses: number[] = []) => {
    verifyReference(reference);
    return request(`/v2/${repository}/manifests/${reference}`, what, pull(repository), {
      publicHeaders: { accept: OCI_MANIFEST_MEDIA_TYPE },
      passStatuses,
    });
  };

  /** A manifest's bytes and Content-Type, downloaded again if the connection drops mid-body. */
  const downloadManifest = (repository: string, reference: string, what: string) =>
    retryDownload(what, retry, async () => {
      const response = await fetchManifestResponse(repository, reference, what);
      const expectedDigest = DIGEST_PATTERN.test(reference) ? reference : undefined;
      return { bytes: await readBody(response, { what, budget: createByteBudget(MAX_MANIFEST_BYTES), expectedDigest }), contentType: response.headers.get('content-type') };
    });

  const readManifest = ({ bytes, contentType }: { bytes: Uint8Array; contentType: string | null }, what: string): FetchedManifest => {
    let manifest: FetchedManifest['manifest'];
    try {
      manifest = JSON.parse(new TextDecoder().decode(bytes)) as FetchedManifest['manifest'];
    } catch {
      throw new RegistryError(what, 'the manifest is not valid JSON');
    }
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new RegistryError(what, 'the manifest is not a JSON object');
    const mediaType = manifest.mediaType ?? contentType?.split(';')[0];
    if (mediaType !== OCI_MANIFEST_MEDIA_TYPE) throw new RegistryError(what, `is a ${mediaType ?? 'manifest of no media type'}, not an OCI image manifest (${OCI_MANIFEST_MEDIA_TYPE})`);
    if (!Array.isArray(manifest.layers) || typeof manifest.config !== 'object') throw new RegistryError(what, 'the manifest has no config or no layers');
    for (const layer of manifest.layers) {
      if (!DIGEST_PATTERN.test(String(layer.digest)) || !Number.isSafeInteger(layer.size) || layer.size < 0) {
        throw new RegistryError(what, 'the manifest lists a layer without a sha256 digest and a size');
      }
    }
    return { bytes, digest: computeDigest(bytes), manifest };
  };

  return {
    async fetchManifest(repository, reference) {
      const what = `${display}/${repository}${DIGEST_PATTERN.test(reference) ? '@' : ':'}${reference}`;
      return readManifest(await downloadManifest(repository, reference, what), what);
    },
    async fetchManifestIfPresent(repository, reference) {
      const what = `${display}/${repository}:${reference}`;
      try {
        return readManifest(await downloadManifest(repository, reference, what), what);
      } catch (error) {
        if (error instanceof RegistryError && error.notFound) return undefined;
        throw error;
      }
    },
    async fetchBlob(repository, descriptor, budget, what) {
      return retryDownload(what, retry, async () =>
        readBody(await request(`/v2/${repository}/blobs/${descriptor.digest}`, what, pull(repository), { crossOriginRedirects: 'follow' }), {
          what,
          budget,
          expectedSize: descriptor.size,
          expectedDigest: descriptor.digest,
        }),
      );
    },
    async pushBlob(repository, bytes) {
      const digest = computeDigest(bytes);
      const what = `${display}/${repository}@${digest}`;
      try {
        await request(`/v2/${repository}/blobs/${digest}`, what, push(repository), { method: 'HEAD' });
        return;
      } catch (error) {
        if (!(error instanceof RegistryError && error.notFound)) throw error;
      }
      const started = await request(`/v2/${repository}/blobs/uploads/`, what, push(repository), { method: 'POST' });
      await started.body?.cancel();
      const location = started.headers.get('location');
      if (location === null) throw new RegistryError(what, 'the registry started an upload without a Location');
      const upload = new URL(location, origin);
      if (upload.origin !== origin) throw new RegistryError(what, `the registry moves the upload to another origin (${upload.origin}); not followed`);
      upload.searchParams.set('digest', digest);
      const done = await request(`${upload.pathname}${upload.search}`, what, push(repository), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      await done.body?.cancel();
    },
    async pushManifest(repository, tag, bytes) {
      verifyReference(tag);
      const what = `${display}/${repository}:${tag}`;
      const response = await request(`/v2/${repository}/manifests/${tag}`, what, push(repository), {
        method: 'PUT',
        headers: { 'content-type': OCI_MANIFEST_MEDIA_TYPE },
        body: bytes,
      });
      await response.body?.cancel();
      return computeDigest(bytes);
    },
  };
}
