import { createHash } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CALIBRATION_FILE, calibrationSchema, findCalibrationProblem, type Calibration } from './calibration.ts';
import type { EncodingSpec } from './encoding.ts';
import { createPredictor, type ModelParameters, type Predictor } from './predictor.ts';
import { REFERENCE_FILE, driftReferenceSchema, findReferenceProblem, type DriftReference } from './reference.ts';
import type { Signature } from './signature.ts';

/**
 * The artifact layouts this reader knows, oldest first; it refuses any other. churn-model/2 adds bagged
 * trees, `calibration.json` and the calibration, cost and probability-quality fields of the manifest.
 */
export const ARTIFACT_FORMATS = ['churn-model/1', 'churn-model/2'] as const;
/** An artifact layout identifier. */
export type ArtifactFormat = (typeof ARTIFACT_FORMATS)[number];
/** The layout new versions are written in. */
export const ARTIFACT_FORMAT: ArtifactFormat = 'churn-model/2';
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
  /** Mean negative log-likelihood (natural log); written since churn-model/2. */
  logLoss?: number;
  /** Expected calibration error over ten equal-width probability bins; written since churn-model/2. */
  ece?: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
}

/** Everything a version says about itself; `files` holds the digest of every other file. */
export interface Manifest {
  format: ArtifactFormat;
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
  /** Cost of missing a churner in units of an unneeded retention offer, the input of the threshold rule (since churn-model/2). */
  costRatio?: number;
  /** How `calibration.json` was chosen and what it is (since churn-model/2). */
  calibration?: { method: string; rule: string };
  metrics: {
    /** Cross-validation on the training split; `brier` and `logLoss` are of the served (calibrated) out-of-fold probabilities. */
    cv: { rocAucMean: number; rocAucStd: number; folds: number; brier?: number; logLoss?: number };
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
  logLoss: z.number().optional(),
  ece: z.number().optional(),
  confusion: z.object({ tp: z.number(), fp: z.number(), tn: z.number(), fn: z.number() }),
});
const manifestSchema = z.object({
  format: z.enum(ARTIFACT_FORMATS),
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
  costRatio: z.number().positive().optional(),
  calibration: z.object({ method: z.string(), rule: z.string() }).optional(),
  metrics: z.object({
    cv: z.object({ rocAucMean: z.number(), rocAucStd: z.number(), folds: z.number(), brier: z.number().optional(), logLoss: z.number().optional() }),
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
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Why a tree node is neither a split nor a leaf, or undefined. Hand-written: zod takes tens of milliseconds on thousands of nodes at cold start. */
function findTreeNodeProblem(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return 'expected a node object';
  const { feature, threshold, left, right, distribution } = node as Record<string, unknown>;
  if (distribution !== undefined) return Array.isArray(distribution) && distribution.every(isNumber) ? undefined : 'expected distribution to be an array of numbers';
  if (!(Number.isInteger(feature) && (feature as number) >= 0)) return 'expected feature to be an integer >= 0';
  if (!isNumber(threshold)) return 'expected threshold to be a number';
  if (!Number.isInteger(left) || !Number.isInteger(right)) return 'expected left and right to be integers';
  return undefined;
}

const treeNodesSchema = z
  .array(z.unknown())
  .min(1)
  .superRefine((nodes, context) => {
    for (const [index, node] of nodes.entries()) {
      const problem = findTreeNodeProblem(node);
      if (problem !== undefined) {
        context.addIssue({ code: 'custom', path: [index], message: problem });
        return;
      }
    }
  });
const modelSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('decision-tree'),
    classes: z.array(z.string()),
    featureCount: z.int().positive(),
    nodes: treeNodesSchema,
  }),
  z.object({
    type: z.literal('bagged-trees'),
    classes: z.array(z.string()),
    featureCount: z.int().positive(),
    trees: z.array(treeNodesSchema).min(1),
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

function parseJson<T>(file: string, bytes: Uint8Array, schema: z.ZodType<T>, layout: string): T {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ArtifactError(file, 'is not valid JSON');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ArtifactError(file, `does not match ${layout} at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

/**
 * Parse and check the structure of a manifest. A format this reader does not know is refused first,
 * by name, so an older server meeting a newer version says so instead of pointing at a field.
 */
export function parseManifest(bytes: Uint8Array): Manifest {
  let format: unknown;
  try {
    format = (JSON.parse(new TextDecoder().decode(bytes)) as { format?: unknown } | null)?.format;
  } catch {
    throw new ArtifactError(MANIFEST_FILE, 'is not valid JSON');
  }
  if (!ARTIFACT_FORMATS.includes(format as ArtifactFormat)) {
    throw new ArtifactError(
      MANIFEST_FILE,
      `format ${JSON.stringify(format)} is not supported: this reader knows ${ARTIFACT_FORMATS.join(' and ')}; a version in a newer format needs a newer server`,
    );
  }
  return parseJson(MANIFEST_FILE, bytes, manifestSchema, format as ArtifactFormat) as Manifest;
}

/** What a version holds besides its manifest; `attachments` are extra files such as the model card. */
export interface ArtifactContents {
  manifest: Omit<Manifest, 'files' | 'format'>;
  model: ModelParameters;
  encoding: EncodingSpec;
  /** Raw probability to served probability; written as calibration.json. Without it the model's own probabilities are served. */
  calibration?: Calibration;
  /** The training distribution of every input, for drift monitoring; written as reference.json. */
  reference?: DriftReference;
  attachments: Record<string, string>;
}

function serialise(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Parameters as JSON; bagged trees one tree per line, since a hundred trees node by node would run to 100,000 lines. */
function serialiseModel(model: ModelParameters): string {
  if (model.type !== 'bagged-trees') return serialise(model);
  const { trees, ...rest } = model;
  const head = JSON.stringify(rest, null, 2).slice(0, -2);
  return `${head},\n  "trees": [\n${trees.map((nodes) => `    ${JSON.stringify(nodes)}`).join(',\n')}\n  ]\n}\n`;
}

/** The text of every file a version's contents become, except the manifest, keyed by file name. */
export function getArtifactFiles(contents: ArtifactContents): Record<string, string> {
  return {
    [MODEL_FILE]: serialiseModel(contents.model),
    [ENCODING_FILE]: serialise(contents.encoding),
    ...(contents.calibration === undefined ? {} : { [CALIBRATION_FILE]: serialise(contents.calibration) }),
    ...(contents.reference === undefined ? {} : { [REFERENCE_FILE]: serialise(contents.reference) }),
    ...contents.attachments,
  };
}

/**
 * Write a version into `dir` (which must not exist yet): every file, then the manifest carrying
 * their digests; files are made read-only. Returns the manifest and its digest.
 */
export async function writeArtifact(dir: string, contents: ArtifactContents): Promise<{ manifest: Manifest; digest: string }> {
  await mkdir(dir, { recursive: false });
  const files = getArtifactFiles(contents);
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
  /** Undefined for churn-model/1 versions and versions trained without one: their model's probabilities are served as they are. */
  calibration: Calibration | undefined;
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
  const layout = manifest.format;
  const model = parseJson(MODEL_FILE, contents.get(MODEL_FILE)!, modelSchema, layout) as ModelParameters;
  const encoding = parseJson(ENCODING_FILE, contents.get(ENCODING_FILE)!, encodingSchema, layout) as EncodingSpec;
  if (model.featureCount !== encoding.columns.length) {
    throw new ArtifactError(MODEL_FILE, `expects ${model.featureCount} features but the encoding has ${encoding.columns.length}`);
  }
  if (layout === 'churn-model/1' && model.type === 'bagged-trees') throw new ArtifactError(MODEL_FILE, `bagged trees need churn-model/2, the manifest says ${layout}`);
  const calibrationBytes = contents.get(CALIBRATION_FILE);
  if (layout === 'churn-model/1' && calibrationBytes !== undefined) throw new ArtifactError(CALIBRATION_FILE, `needs churn-model/2, the manifest says ${layout}`);
  const calibration = calibrationBytes === undefined ? undefined : (parseJson(CALIBRATION_FILE, calibrationBytes, calibrationSchema, layout) as Calibration);
  const calibrationProblem = calibration === undefined ? undefined : findCalibrationProblem(calibration);
  if (calibrationProblem !== undefined) throw new ArtifactError(CALIBRATION_FILE, calibrationProblem);
  const referenceBytes = contents.get(REFERENCE_FILE);
  const reference = referenceBytes === undefined ? undefined : (parseJson(REFERENCE_FILE, referenceBytes, driftReferenceSchema, layout) as DriftReference);
  const problem = reference === undefined ? undefined : findReferenceProblem(reference, manifest.signature);
  if (problem !== undefined) throw new ArtifactError(REFERENCE_FILE, `does not fit the signature: ${problem}`);
  return { manifest, digest, model, encoding, calibration, reference };
}

/**
 * The one scorer of a version, shared by serving, the gate, tests and training: its parameters, then
 * its calibration when it has one, answering P(positive class) for encoded feature vectors.
 */
export function createArtifactPredictor(artifact: Pick<LoadedArtifact, 'manifest' | 'model' | 'calibration'>): Predictor {
  return createPredictor(artifact.model, artifact.manifest.signature.output.positiveClass, artifact.calibration);
}
