import { RegistryError } from './errors.ts';
import { createModelArtifact, getVersionTag, MODEL_DIGEST_ANNOTATION } from './oci-artifact.ts';
import { getRepository } from './oci-client.ts';
import { createOciClientFor, createOciSource, type OciSourceOptions } from './oci-source.ts';
import { importVersion, loadVersion, readHistory, type LoadedVersion } from './registry.ts';
import { getPublishedVersions } from './history.ts';
import { createDirectorySource } from './source.ts';

/** What {@link pushVersion} did: the OCI manifest digest of the tag, and whether it uploaded anything. */
export interface PushResult {
  reference: string;
  ociDigest: string;
  digest: string;
  pushed: boolean;
}

/**
 * Push a published version of a registry directory to an OCI registry, laid out as CI's `oras push`
 * lays it out (one layer per file, named by its title). The version is verified against the digest
 * its publication recorded first. An existing tag with the same model digest is left alone; with
 * another, the push is refused: a version is never republished.
 */
export async function pushVersion(
  root: string,
  name: string,
  version: string,
  location: string,
  { annotations = {}, ...options }: OciSourceOptions & { annotations?: Record<string, string> } = {},
): Promise<PushResult> {
  const publication = getPublishedVersions((await readHistory(root, name)).events).get(version);
  if (publication === undefined) throw new RegistryError(`${name}/${version}`, `is not a published version in ${root}`, { notFound: true });
  const local = await loadVersion(createDirectorySource(root), name, version, { digest: publication.digest });
  const { client, parsed } = await createOciClientFor(location, options);
  const repository = getRepository(parsed, name);
  const tag = getVersionTag(version);
  const reference = `${parsed.host}/${repository}:${tag}`;
  const existing = await client.fetchManifestIfPresent(repository, tag);
  if (existing !== undefined) {
    const recorded = existing.manifest.annotations?.[MODEL_DIGEST_ANNOTATION];
    if (recorded !== local.digest) {
      throw new RegistryError(reference, `exists with model digest ${recorded ?? '(none)'}, not ${local.digest}: a version is never republished`);
    }
    return { reference, ociDigest: existing.digest, digest: local.digest, pushed: false };
  }
  const artifact = createModelArtifact(local.files, { name, version, digest: local.digest, annotations });
  await Promise.all(artifact.blobs.map((blob) => client.pushBlob(repository, blob)));
  const ociDigest = await client.pushManifest(repository, tag, artifact.manifest);
  return { reference, ociDigest, digest: local.digest, pushed: true };
}

/**
 * Pull a version from an OCI registry into a registry directory, verifying every blob against the
 * OCI manifest and every file against manifest.json (and the pins, when given), then record its
 * publication there so that the directory verifies and serves it.
 */
export async function pullVersion(
  location: string,
  name: string,
  version: string,
  root: string,
  { digest, ociDigest, ...options }: OciSourceOptions & { digest?: string | undefined; ociDigest?: string | undefined } = {},
): Promise<LoadedVersion> {
  const loaded = await loadVersion(createOciSource(location, options), name, version, { digest, ociDigest });
  await importVersion(root, loaded, { reason: `pulled from ${loaded.location}` });
  return loaded;
}
