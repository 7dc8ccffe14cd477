import { UnpinnedError } from './errors.ts';
import { isOciLocation } from './oci-client.ts';

/**
 * Most bytes one version's files may take together by default (MODEL_MAX_BYTES). Files are parsed
 * only once every digest matches, so tampered content costs at most this much memory. Sized from
 * the chart's 256 Mi limit: the server idles near 75 MiB, and a genuine version at the cap (an
 * 8 MiB model.json) peaks at ~145 MiB while it loads, before any request is admitted. Today's
 * version is 57 KiB.
 */
export const DEFAULT_MAX_VERSION_BYTES = 8 * 1024 * 1024;

/** Where a registry location points: a local folder, or a remote HTTP(S) or OCI registry. */
export type LocationKind = 'directory' | 'http' | 'oci';

/** Classify a registry location by its scheme. */
export function getLocationKind(location: string): LocationKind {
  if (isOciLocation(location)) return 'oci';
  if (/^https?:\/\//i.test(location)) return 'http';
  return 'directory';
}

/** What pins a version: the model digest (sha256 of manifest.json) and/or the OCI manifest digest. */
export interface Pins {
  digest?: string | undefined;
  ociDigest?: string | undefined;
}

/** What a load may do with a location, decided once before any byte is read. */
export interface TrustDecision {
  kind: LocationKind;
  /** Redirects to another origin: followed only for pinned content (the pin checks what arrives). */
  crossOriginRedirects: 'follow' | 'refuse';
  maxBytes: number;
}

/**
 * Decide what a load of `name` `version` from `location` may trust. Content from a local
 * directory is the image's own; remote content (http(s)://, oci://) is served only when pinned by
 * a model digest or an OCI manifest digest, and anything else is refused before it is fetched
 * with an {@link UnpinnedError} that says how to find the pin. An OCI digest pins oci:// only.
 */
export function decideTrust(location: string, name: string, version: string, pins: Pins, { maxBytes = DEFAULT_MAX_VERSION_BYTES }: { maxBytes?: number } = {}): TrustDecision {
  const kind = getLocationKind(location);
  if (pins.ociDigest !== undefined && kind !== 'oci') {
    throw new UnpinnedError(location, 'an OCI manifest digest pins oci:// registries only; pin this registry with the model digest');
  }
  const pinned = pins.digest !== undefined || pins.ociDigest !== undefined;
  if (kind !== 'directory' && !pinned) {
    const how =
      kind === 'oci'
        ? `pin the model digest (npm run registry -- resolve ${version} --registry ${location}) or the OCI manifest digest ` +
          `(oras manifest fetch --descriptor ${location.replace(/^oci:\/\//i, '').replace(/\/+$/, '')}/${name}:${version})`
        : `pin the model digest (npm run registry -- resolve ${version} --registry ${location})`;
    throw new UnpinnedError(location, `is a remote registry and nothing pins what it serves for ${name} ${version}; refused. To serve it, ${how}`);
  }
  return { kind, crossOriginRedirects: pinned ? 'follow' : 'refuse', maxBytes };
}
