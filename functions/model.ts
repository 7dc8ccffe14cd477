import type { z } from 'zod';
import { createArtifactPredictor, type Manifest } from '../lib/model/artifact.ts';
import { createInstanceDecoder, type InstanceDecoder } from '../lib/model/decode.ts';
import { createCodeEncoder } from '../lib/model/encoding.ts';
import type { DriftReference } from '../lib/model/reference.ts';
import { createInstanceCheck, createInstanceSchema, getInputCodes, type Instance, type InstanceCheck } from '../lib/model/signature.ts';
import { loadTrustedVersion } from '../lib/registry/load.ts';
import type { LoadPhases } from './state.ts';

/** A model ready to answer requests: verified artifact, compiled encoder and predictor, request schema. */
export interface ServedModel {
  name: string;
  version: string;
  digest: string;
  manifest: Manifest;
  /** Where the files came from (a directory, a URL, `oci://host/repository@sha256:…`). */
  source: string;
  /** The OCI manifest digest, when the model came from an OCI registry. */
  ociDigest: string | undefined;
  /** Seconds of each phase up to and including compiling; server.ts adds the warm-up. */
  loadPhases: Omit<LoadPhases, 'warmup'>;
  threshold: number;
  /** How training inputs fell into per-input bins; undefined for versions published before references existed. */
  reference: DriftReference | undefined;
  /** The zod schema of one customer, built from the version's signature. */
  instanceSchema: z.ZodObject;
  /** The fast path of the same validation, which also writes a valid customer's input codes (lib/model/signature.ts). */
  checkInstance: InstanceCheck;
  /** The same check read straight from a body's JSON bytes, which may decline (lib/model/decode.ts). */
  decodeInstance: InstanceDecoder;
  /** Input codes per customer: the signature's inputs. */
  codeWidth: number;
  /** P(churn) for each of `count` customers given as input codes, `codeWidth` each, in order. */
  predictCodes(codes: Float64Array, count: number): Float64Array;
  /** P(churn) for each instance, in order; throws for an instance the signature refuses. */
  predict(instances: Instance[]): Float64Array;
}

/** Where to load the served model from and what pins it; `version` may be an alias. */
export interface ModelLocation {
  registry: string;
  name: string;
  version: string;
  digest?: string | undefined;
  ociDigest?: string | undefined;
  plainHttp?: boolean;
  dockerConfigDir?: string | undefined;
  maxBytes?: number;
}

/**
 * Load a version from a directory, HTTP or OCI registry under the trust rules of
 * lib/registry/trust.ts (remote content only when pinned, a byte cap), verify every file, and
 * compile it for serving. Throws (naming the file and digests) rather than return anything unverified.
 */
export async function loadServedModel({ registry, name, version, ...options }: ModelLocation): Promise<ServedModel> {
  const artifact = await loadTrustedVersion({ location: registry, name, reference: version, ...options });
  const compileStarted = performance.now();
  const { manifest, encoding } = artifact;
  const encode = createCodeEncoder(encoding, manifest.signature);
  // Parameters, then the version's calibration when it has one: the same scorer training and the gate use.
  const predictor = createArtifactPredictor(artifact);
  const instanceSchema = createInstanceSchema(manifest.signature);
  const checkInstance = createInstanceCheck(manifest.signature);
  const decodeInstance = createInstanceDecoder(manifest.signature);
  const width = encoding.columns.length;
  const codeWidth = manifest.signature.inputs.length;
  let vectors = new Float64Array(width * 16);
  const predictCodes = (codes: Float64Array, count: number): Float64Array => {
    // One reused buffer: prediction is synchronous, so no two calls share it at once.
    if (vectors.length < count * width) vectors = new Float64Array(count * width);
    const probabilities = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      encode(codes, i * codeWidth, vectors, i * width);
      probabilities[i] = predictor.predictProbability(vectors, i * width);
    }
    return probabilities;
  };
  return {
    name: manifest.name,
    version: manifest.version,
    digest: artifact.digest,
    manifest,
    source: artifact.location,
    ociDigest: artifact.ociDigest,
    loadPhases: { ...artifact.phases, compile: (performance.now() - compileStarted) / 1000 },
    threshold: manifest.threshold,
    reference: artifact.reference,
    instanceSchema,
    checkInstance,
    decodeInstance,
    codeWidth,
    predictCodes,
    predict: (instances) => predictCodes(getInputCodes(manifest.signature, instances), instances.length),
  };
}

/** A customer made of the first allowed value or lower bound of every input: valid by construction, used to warm up. */
export function createExampleInstance(manifest: Manifest): Instance {
  const instance: Instance = {};
  for (const input of manifest.signature.inputs) {
    instance[input.name] = input.type === 'category' ? input.values[0]! : input.type === 'flag' ? 0 : input.observed.min;
  }
  return instance;
}
