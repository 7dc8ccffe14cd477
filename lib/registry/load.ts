import type { RetryOptions } from './http.ts';
import { createOciSource } from './oci-source.ts';
import { loadVersion, type LoadedVersion } from './registry.ts';
import { createDirectorySource, createHttpSource, type RegistrySource } from './source.ts';
import { decideTrust, getLocationKind, type Pins } from './trust.ts';

/** How to reach a location: retries, plain HTTP for a local OCI registry, the Docker config with credentials. */
export interface SourceOptions extends RetryOptions {
  /** Speak plain HTTP to an oci:// registry (as `oras --plain-http`). */
  plainHttp?: boolean;
  /** Directory of a Docker `config.json` (DOCKER_CONFIG). */
  dockerConfigDir?: string | undefined;
  /** Follow redirects to another origin (HTTP registries); only for pinned content. */
  crossOriginRedirects?: 'follow' | 'refuse';
}

/** Create the source for a location: `oci://host[:port]/path`, an `http(s)://` base URL, or a directory. */
export function createRegistrySource(location: string, { plainHttp, dockerConfigDir, crossOriginRedirects, ...retry }: SourceOptions = {}): RegistrySource {
  switch (getLocationKind(location)) {
    case 'oci':
      return createOciSource(location, { plainHttp, dockerConfigDir, ...retry });
    case 'http':
      return createHttpSource(location, { crossOriginRedirects, ...retry });
    default:
      return createDirectorySource(location);
  }
}

/** What {@link loadTrustedVersion} loads, and from where. */
export interface TrustedLoad extends Pins, Omit<SourceOptions, 'crossOriginRedirects'> {
  location: string;
  name: string;
  /** A version or an alias. */
  reference: string;
  /** Most bytes the version's files may take together. */
  maxBytes?: number;
}

/**
 * Load a version the way a server must: decide trust first (remote content only when pinned,
 * redirects, the byte cap: see trust.ts), then read through the matching source and verify every
 * byte against the pins. Throws rather than return anything unverified.
 */
export async function loadTrustedVersion({ location, name, reference, digest, ociDigest, maxBytes, ...options }: TrustedLoad): Promise<LoadedVersion> {
  const trust = decideTrust(location, name, reference, { digest, ociDigest }, maxBytes === undefined ? {} : { maxBytes });
  const source = createRegistrySource(location, { ...options, crossOriginRedirects: trust.crossOriginRedirects });
  return loadVersion(source, name, reference, { digest, ociDigest, maxBytes: trust.maxBytes });
}
