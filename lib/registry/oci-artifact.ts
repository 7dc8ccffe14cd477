import { computeDigest } from '../model/artifact.ts';
import { RegistryError } from './errors.ts';
import { OCI_MANIFEST_MEDIA_TYPE, type Descriptor, type FetchedManifest } from './oci-client.ts';

// The layout `oras push` gives a model version in .github/workflows/ci.yml (publish job): one layer per
// file, named by its title annotation, an empty config, and the model's identity in the annotations.

/** The artifact type of a model version. */
export const MODEL_ARTIFACT_TYPE = 'application/vnd.telco-churn.model.v1';
/** The layer media type of a version's manifest.json. */
export const MODEL_MANIFEST_MEDIA_TYPE = 'application/vnd.telco-churn.model.manifest.v1+json';
/** Manifest annotation holding the model digest (sha256 of manifest.json). */
export const MODEL_DIGEST_ANNOTATION = 'vnd.telco-churn.model.digest';
/** Manifest annotation holding the model name. */
export const MODEL_NAME_ANNOTATION = 'vnd.telco-churn.model.name';
/** The layer annotation naming the file (as oras reads and writes it). */
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
const EMPTY_CONFIG = new TextEncoder().encode('{}');
const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';

/** The media type CI gives a file of a version, by its name. */
export function getFileMediaType(file: string): string {
  if (file === 'manifest.json') return MODEL_MANIFEST_MEDIA_TYPE;
  if (file.endsWith('.json')) return 'application/json';
  if (file.endsWith('.md')) return 'text/markdown';
  if (file.endsWith('.svg')) return 'image/svg+xml';
  return 'application/octet-stream';
}

/** The OCI tag of a version: `+` is not allowed in tags, so build metadata takes `_` (as CI does). */
export function getVersionTag(version: string): string {
  return version.replaceAll('+', '_');
}

/**
 * Check that a fetched manifest is a model version and map each file name to its layer. Refuses
 * another artifact type, a layer without a plain file name, and a name given twice.
 */
export function getLayerFiles(fetched: FetchedManifest, what: string): Map<string, Descriptor> {
  const { artifactType } = fetched.manifest;
  if (artifactType !== MODEL_ARTIFACT_TYPE) throw new RegistryError(what, `is not a model version (artifact type ${artifactType ?? 'none'}, expected ${MODEL_ARTIFACT_TYPE})`);
  const files = new Map<string, Descriptor>();
  for (const layer of fetched.manifest.layers) {
    const title = layer.annotations?.[TITLE_ANNOTATION];
    if (title === undefined || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(title)) throw new RegistryError(what, `has a layer (${layer.digest}) without a plain file name`);
    if (files.has(title)) throw new RegistryError(what, `lists ${title} twice`);
    files.set(title, layer);
  }
  return files;
}

/** The manifest and blobs of a version as oras pushes it. */
export interface ModelArtifact {
  manifest: Uint8Array;
  blobs: Uint8Array[];
}

/**
 * Build the OCI manifest of a version from its files (name → bytes), in name order as the shell's
 * `*` lists them in CI. `annotations` are added to the name, version, digest and creation time.
 */
export function createModelArtifact(
  files: Map<string, Uint8Array>,
  { name, version, digest, created = new Date().toISOString().replace(/\.\d+Z$/, 'Z'), annotations = {} }: { name: string; version: string; digest: string; created?: string; annotations?: Record<string, string> },
): ModelArtifact {
  const names = [...files.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    artifactType: MODEL_ARTIFACT_TYPE,
    config: { mediaType: EMPTY_MEDIA_TYPE, digest: computeDigest(EMPTY_CONFIG), size: EMPTY_CONFIG.byteLength, data: Buffer.from(EMPTY_CONFIG).toString('base64') },
    layers: names.map((file) => ({
      mediaType: getFileMediaType(file),
      digest: computeDigest(files.get(file)!),
      size: files.get(file)!.byteLength,
      annotations: { [TITLE_ANNOTATION]: file },
    })),
    annotations: {
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.title': name,
      'org.opencontainers.image.version': version,
      [MODEL_NAME_ANNOTATION]: name,
      [MODEL_DIGEST_ANNOTATION]: digest,
      ...annotations,
    },
  };
  return { manifest: new TextEncoder().encode(JSON.stringify(manifest)), blobs: [EMPTY_CONFIG, ...names.map((file) => files.get(file)!)] };
}
