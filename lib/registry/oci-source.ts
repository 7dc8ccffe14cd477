import { readDockerCredentials } from './docker-config.ts';
import { RegistryError } from './errors.ts';
import type { RetryOptions } from './http.ts';
import { getLayerFiles, getVersionTag, MODEL_DIGEST_ANNOTATION } from './oci-artifact.ts';
import { createOciClient, getRepository, parseOciLocation, type OciClient, type OciLocation } from './oci-client.ts';
import type { RegistrySource, VersionFiles } from './source.ts';

/** Options of {@link createOciSource}. */
export interface OciSourceOptions extends RetryOptions {
  /** Speak plain HTTP (a local registry), as `oras --plain-http`. */
  plainHttp?: boolean;
  /** Directory of a Docker `config.json` with the registry's credentials (DOCKER_CONFIG). */
  dockerConfigDir?: string | undefined;
}

/** Create a client for an `oci://` location, with the credentials its Docker config holds for the host. */
export async function createOciClientFor(location: string, { plainHttp = false, dockerConfigDir, ...retry }: OciSourceOptions = {}): Promise<{ client: OciClient; parsed: OciLocation }> {
  const parsed = parseOciLocation(location, { plainHttp });
  const credentials = await readDockerCredentials(dockerConfigDir, parsed.host);
  return { client: createOciClient({ location: parsed, credentials, ...retry }), parsed };
}

/**
 * Create a source reading model versions from an OCI registry (`oci://host[:port]/path`): a model
 * is the repository `<path>/<name>`, a version its tag, each file a layer named by its title, as
 * CI's `oras push` lays it out. Opening a version fetches its manifest (by digest when pinned);
 * each blob is then checked against the manifest's size and digest while it streams.
 */
export function createOciSource(location: string, options: OciSourceOptions = {}): RegistrySource {
  const parsed = parseOciLocation(location, options);
  const display = `oci://${parsed.host}${parsed.prefix === '' ? '' : `/${parsed.prefix}`}`;
  let client: Promise<OciClient> | undefined;
  return {
    location: display,
    kind: 'oci',
    async readAliases(name) {
      throw new RegistryError(`${display}/${name}`, 'an OCI registry keeps versions as tags and no aliases: give a version such as 1.0.0', { notFound: true });
    },
    async openVersion(name, version, { ociDigest } = {}): Promise<VersionFiles> {
      client ??= createOciClientFor(location, options).then((created) => created.client);
      const oci = await client;
      const repository = getRepository(parsed, name);
      const fetched = await oci.fetchManifest(repository, ociDigest ?? getVersionTag(version));
      const at = `oci://${parsed.host}/${repository}@${fetched.digest}`;
      const layers = getLayerFiles(fetched, at);
      return {
        location: at,
        ociDigest: fetched.digest,
        recordedDigest: fetched.manifest.annotations?.[MODEL_DIGEST_ANNOTATION],
        digests: new Map([...layers].map(([file, layer]) => [file, layer.digest])),
        async read(file, budget) {
          const layer = layers.get(file);
          if (layer === undefined) throw new RegistryError(file, `is not a layer of ${at}`, { notFound: true });
          return oci.fetchBlob(repository, layer, budget, file);
        },
      };
    },
  };
}
