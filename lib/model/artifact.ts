import { createHash } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { EncodingSpec } from './encoding.ts';
import type { ModelParameters } from './predictor.ts';
import { REFERENCE_FILE, driftReferenceSchema, findReferenceProblem, type DriftReference } from './reference.ts';
import type { Signature } from './signature.ts';

/** Identifier of this artifact layout; a reader refuses any other. */
export const ARTIFACT_FORMAT = 'churn-model/1';
/** The model parameters file of every version. */
export const MODEL_FILE = 'model.json';
/** The feature encoding file of every version. */
export const ENCODING_FILE = 'encoding.json';
/** The manifest, whose own digest identifies the version. */
export const MANIFEST_FILE = 'manifest.json';

/** Metrics of one model on one set of rows. */
export interface ClassificationMetrics {
  rocAuc: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  brier: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
}

/** Everything a version says about itself; `files` holds the digest of every other file. */
export interface Manifest {
  format: typeof ARTIFACT_FORMAT;
  name: string;
  version: string;
  created: string;
  description: string;
  algorithm: {
    name: string;
    library: string;
    libraryVersion: string;
    hyperParameters: Record<string, string | number | boolean | string[]>;
  };
  signature: Signature;
  threshold: number;
  thresholdRule: string;
  metrics: {
    cv: { rocAucMean: number; rocAucStd: number; folds: number };
    test: ClassificationMetrics;
    trainingBaseRate: number;
  };
  data: { path: string; sha256: string; rows: number; trainRows: number; testRows: number };
  training: { seed: number; folds: number; testFraction: number; selectionRule: string };
  source: { gitCommit: string | null; gitDirty: boolean | null };
  runtime: Record<string, string>;
  files: Record<string, string>;
}

/** Raised when an artifact is missing a file, fails a digest, or is not of this format. */
export class ArtifactError extends Error {
  override name = 'ArtifactError';
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.file = file;
  }
}

/** Compute the OCI-style digest (`sha256:<hex>`) of some bytes. */
export function computeDigest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const digestSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const rangeSchema = z.object({ min: z.number(), max: z.number() });
const inputSchema = z.discriminatedUnion('type', [
  z.object({ name: z.string(), description: z.string(), type: z.literal('flag') }),
  z.object({ name: z.string(), description: z.string(), type: z.literal('integer'), minimum: z.number(), observed: rangeSchema }),
  z.object({ name: z.string(), description: z.string(), type: z.literal('number'), minimum: z.number(), nullable: z.boolean(), observed: rangeSchema }),
  z.object({ name: z.string(), description: z.string(), type: z.literal('category'), values: z.array(z.string()).min(1) }),
]);
const metricsSchema = z.object({
  rocAuc: z.number(),
  accuracy: z.number(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  brier: z.number(),
  confusion: z.object({ tp: z.number(), fp: z.number(), tn: z.number(), fn: z.number() }),
});
const manifestSchema = z.object({
  format: z.literal(ARTIFACT_FORMAT),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  created: z.string(),
  description: z.string(),
  algorithm: z.object({
    name: z.string(),
    library: z.string(),
    libraryVersion: z.string(),
    hyperParameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
  }),
  signature: z.object({
    inputs: z.array(inputSchema).min(1),
    output: z.object({ name: z.string(), classes: z.array(z.string()).min(2), positiveClass: z.string() }),
  }),
  threshold: z.number().min(0).max(1),
  thresholdRule: z.string(),
  metrics: z.object({
    cv: z.object({ rocAucMean: z.number(), rocAucStd: z.number(), folds: z.number() }),
    test: metricsSchema,
    trainingBaseRate: z.number(),
  }),
  data: z.object({ path: z.string(), sha256: digestSchema, rows: z.number(), trainRows: z.number(), testRows: z.number() }),
  training: z.object({ seed: z.number(), folds: z.number(), testFraction: z.number(), selectionRule: z.string() }),
  source: z.object({ gitCommit: z.string().nullable(), gitDirty: z.boolean().nullable() }),
  runtime: z.record(z.string(), z.string()),
  files: z.record(z.string(), digestSchema),
});
const encodingSchema = z.object({
  format: z.literal('feature-vector/1'),
  columns: z.array(
    z.union([
      z.object({ input: z.string(), kind: z.literal('value'), nullValue: z.number().optional() }),
      z.object({ input: z.string(), kind: z.literal('one-hot'), value: z.string() }),
    ]),
  ),
});
const modelSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('decision-tree'),
    classes: z.array(z.string()),
    featureCount: z.int().positive(),
    nodes: z
      .array(
        z.union([
          z.object({ feature: z.int().min(0), threshold: z.number(), left: z.int(), right: z.int() }),
          z.object({ distribution: z.array(z.number()) }),
        ]),
      )
      .min(1),
  }),
  z.object({
    type: z.literal('gaussian-nb'),
    classes: z.array(z.string()),
    featureCount: z.int().positive(),
    logPriors: z.array(z.number()),
    means: z.array(z.array(z.number())),
    variances: z.array(z.array(z.number().positive())),
  }),
  z.object({ type: z.literal('constant'), classes: z.array(z.string()), featureCount: z.int().positive(), distribution: z.array(z.number()) }),
]);

function parseJson<T>(file: string, bytes: Uint8Array, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ArtifactError(file, 'is not valid JSON');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ArtifactError(file, `does not match ${ARTIFACT_FORMAT} at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

/** Parse and check the structure of a manifest. */
export function parseManifest(bytes: Uint8Array): Manifest {
  return parseJson(MANIFEST_FILE, bytes, manifestSchema) as Manifest;
}

/** What a version holds besides its manifest; `attachments` are extra files such as the model card. */
export interface ArtifactContents {
  manifest: Omit<Manifest, 'files' | 'format'>;
  model: ModelParameters;
  encoding: EncodingSpec;
  /** The training distribution of every input, for drift monitoring; written as reference.json. */
  reference?: DriftReference;
  attachments: Record<string, string>;
}

function serialise(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Write a version into `dir` (which must not exist yet): every file, then the manifest carrying
 * their digests; files are made read-only. Returns the manifest and its digest.
 */
export async function writeArtifact(dir: string, contents: ArtifactContents): Promise<{ manifest: Manifest; digest: string }> {
  await mkdir(dir, { recursive: false });
  const files: Record<string, string> = {
    [MODEL_FILE]: serialise(contents.model),
    [ENCODING_FILE]: serialise(contents.encoding),
    ...(contents.reference === undefined ? {} : { [REFERENCE_FILE]: serialise(contents.reference) }),
    ...contents.attachments,
  };
  const digests: Record<string, string> = {};
  for (const [name, text] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    if (name === MANIFEST_FILE || name.includes('/') || name.startsWith('.')) throw new Error(`invalid artifact file name ${name}`);
    await writeFile(join(dir, name), text, { flag: 'wx' });
    await chmod(join(dir, name), 0o444);
    digests[name] = computeDigest(text);
  }
  const manifest: Manifest = { format: ARTIFACT_FORMAT, ...contents.manifest, files: digests };
  const text = serialise(manifest);
  await writeFile(join(dir, MANIFEST_FILE), text, { flag: 'wx' });
  await chmod(join(dir, MANIFEST_FILE), 0o444);
  return { manifest, digest: computeDigest(text) };
}

/** A version read and verified: manifest, its digest, parameters, encoding and, when it has one, its drift reference. */
export interface LoadedArtifact {
  manifest: Manifest;
  digest: string;
  model: ModelParameters;
  encoding: EncodingSpec;
  /** Undefined for versions published before drift references existed. */
  reference: DriftReference | undefined;
}

/** Reads one file of a version by its name; throws if it cannot. */
export type ReadArtifactFile = (name: string) => Promise<Uint8Array>;

/**
 * Read a version through `readFile` and verify it: the manifest against `expectedDigest` when
 * given, then every file against the manifest's digest. Throws {@link ArtifactError} naming the
 * first file that is missing, altered or malformed; never returns an unverified artifact.
 */
export async function readArtifact(readFile: ReadArtifactFile, { expectedDigest }: { expectedDigest?: string } = {}): Promise<LoadedArtifact> {
  const manifestBytes = await readFile(MANIFEST_FILE);
  const digest = computeDigest(manifestBytes);
  if (expectedDigest !== undefined && digest !== expectedDigest) {
    throw new ArtifactError(MANIFEST_FILE, `digest ${digest} does not match the expected ${expectedDigest}`);
  }
  const manifest = parseManifest(manifestBytes);
  for (const required of [MODEL_FILE, ENCODING_FILE]) {
    if (!(required in manifest.files)) throw new ArtifactError(required, 'is not listed in the manifest');
  }
  const contents = new Map<string, Uint8Array>();
  await Promise.all(
    Object.entries(manifest.files).map(async ([name, expected]) => {
      const bytes = await readFile(name);
      const actual = computeDigest(bytes);
      if (actual !== expected) throw new ArtifactError(name, `digest ${actual} does not match the manifest's ${expected}`);
      contents.set(name, bytes);
    }),
  );
  const model = parseJson(MODEL_FILE, contents.get(MODEL_FILE)!, modelSchema) as ModelParameters;
  const encoding = parseJson(ENCODING_FILE, contents.get(ENCODING_FILE)!, encodingSchema) as EncodingSpec;
  if (model.featureCount !== encoding.columns.length) {
    throw new ArtifactError(MODEL_FILE, `expects ${model.featureCount} features but the encoding has ${encoding.columns.length}`);
  }
  const referenceBytes = contents.get(REFERENCE_FILE);
  const reference = referenceBytes === undefined ? undefined : (parseJson(REFERENCE_FILE, referenceBytes, driftReferenceSchema) as DriftReference);
  const problem = reference === undefined ? undefined : findReferenceProblem(reference, manifest.signature);
  if (problem !== undefined) throw new ArtifactError(REFERENCE_FILE, `does not fit the signature: ${problem}`);
  return { manifest, digest, model, encoding, reference };
}
