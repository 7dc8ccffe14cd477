import { parseArgs } from 'node:util';
import { createArtifactPredictor, type LoadedArtifact } from '../lib/model/artifact.ts';
import { predictProbabilities } from '../lib/model/predictor.ts';
import { DEFAULT_MODEL_NAME, loadVersion } from '../lib/registry/registry.ts';
import { createDirectorySource } from '../lib/registry/source.ts';
import { readDataset, type Dataset } from './dataset.ts';
import { getBrierScore, getLogLoss, getRocAuc } from './metrics.ts';
import { encodeRows } from './pipeline.ts';
import { createRandom, splitStratified } from './sampling.ts';

/** The quality bar: no version below this test-split ROC AUC is published to production. */
export const MIN_TEST_ROC_AUC = 0.8;
/** How much worse than production a candidate may score (split noise), in ROC AUC. */
export const ROC_AUC_TOLERANCE = 0.005;
/** How much worse than production a candidate's probabilities may be, in Brier score. */
export const BRIER_TOLERANCE = 0.005;

/** Test-split scores of one version in the gate. */
export interface GateScores {
  rocAuc: number;
  brier: number;
  /** Infinity when the version gives a churner probability 0 (or a stayer 1). */
  logLoss: number;
}

/** The verdict of {@link runGate}. */
export interface GateResult {
  passed: boolean;
  candidate: GateScores;
  production: GateScores;
  reasons: string[];
}

/** Score a version on the given test rows of `dataset`, with its own encoding and calibration: the served probabilities. */
function scoreOnTestSplit(artifact: LoadedArtifact, dataset: Dataset, test: number[]): GateScores {
  const rows = encodeRows(
    artifact.encoding,
    artifact.manifest.signature,
    test.map((row) => dataset.instances[row]!),
  );
  const scores = predictProbabilities(createArtifactPredictor(artifact), Float64Array.from(rows.flat()), rows.length);
  const labels = test.map((row) => dataset.labels[row]!);
  return { rocAuc: getRocAuc(scores, labels), brier: getBrierScore(scores, labels), logLoss: getLogLoss(scores, labels) };
}

/**
 * Decide whether a candidate may replace production: both are re-scored on the same test split (the
 * candidate's data, seed and fraction), so the comparison holds even when the data or the split
 * changed; the candidate must reach {@link MIN_TEST_ROC_AUC}, be no more than {@link ROC_AUC_TOLERANCE}
 * below production in ROC AUC and {@link BRIER_TOLERANCE} above it in Brier score, and have a finite
 * log loss (no certain answer that turned out wrong).
 */
export async function runGate(
  candidate: LoadedArtifact,
  production: LoadedArtifact,
  { minRocAuc = MIN_TEST_ROC_AUC, tolerance = ROC_AUC_TOLERANCE, brierTolerance = BRIER_TOLERANCE } = {},
): Promise<GateResult> {
  const dataset = await readDataset(candidate.manifest.data.path);
  if (dataset.sha256 !== candidate.manifest.data.sha256) {
    throw new Error(`${candidate.manifest.data.path} is not the data the candidate was trained on (${candidate.manifest.data.sha256})`);
  }
  const { seed, testFraction } = candidate.manifest.training;
  const { test } = splitStratified(dataset.labels, testFraction, createRandom(seed));
  const scores = scoreOnTestSplit(candidate, dataset, test);
  const reference = scoreOnTestSplit(production, dataset, test);
  const reasons: string[] = [];
  if (scores.rocAuc < minRocAuc) reasons.push(`test ROC AUC ${scores.rocAuc.toFixed(4)} is below the bar of ${minRocAuc}`);
  if (scores.rocAuc < reference.rocAuc - tolerance) {
    reasons.push(`test ROC AUC ${scores.rocAuc.toFixed(4)} is worse than production's ${reference.rocAuc.toFixed(4)} by more than ${tolerance}`);
  }
  if (scores.brier > reference.brier + brierTolerance) {
    reasons.push(`test Brier score ${scores.brier.toFixed(4)} is worse than production's ${reference.brier.toFixed(4)} by more than ${brierTolerance}`);
  }
  if (!Number.isFinite(scores.logLoss)) reasons.push('test log loss is infinite: a customer got probability 0 or 1 and the other outcome happened');
  return { passed: reasons.length === 0, candidate: scores, production: reference, reasons };
}

const USAGE = `Gate a candidate model version against production before it may be published.

Usage: npm run gate -- --candidate-registry DIR --candidate VERSION [options]
  --registry DIR     the registry holding the reference (default model-registry)
  --against ALIAS    the reference alias or version (default production)
  --model NAME       model name (default ${DEFAULT_MODEL_NAME})
  --min-auc X        quality bar (default ${MIN_TEST_ROC_AUC})
  --tolerance X      allowed ROC AUC drop below the reference (default ${ROC_AUC_TOLERANCE})
  --brier-tolerance X  allowed Brier score rise above the reference (default ${BRIER_TOLERANCE})
A candidate also fails when its test log loss is infinite.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'candidate-registry': { type: 'string' },
      candidate: { type: 'string' },
      registry: { type: 'string', default: 'model-registry' },
      against: { type: 'string', default: 'production' },
      model: { type: 'string', default: DEFAULT_MODEL_NAME },
      'min-auc': { type: 'string', default: String(MIN_TEST_ROC_AUC) },
      tolerance: { type: 'string', default: String(ROC_AUC_TOLERANCE) },
      'brier-tolerance': { type: 'string', default: String(BRIER_TOLERANCE) },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || values['candidate-registry'] === undefined || values.candidate === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const candidate = await loadVersion(createDirectorySource(values['candidate-registry']), values.model, values.candidate);
  const production = await loadVersion(createDirectorySource(values.registry), values.model, values.against);
  const result = await runGate(candidate, production, {
    minRocAuc: Number(values['min-auc']),
    tolerance: Number(values.tolerance),
    brierTolerance: Number(values['brier-tolerance']),
  });
  const describe = (scores: GateScores) => `ROC AUC ${scores.rocAuc.toFixed(4)}, Brier ${scores.brier.toFixed(4)}, log loss ${scores.logLoss.toFixed(4)}`;
  const summary = `candidate ${candidate.manifest.version} (${describe(result.candidate)}) vs ${values.against} ${production.manifest.version} (${describe(result.production)}) on the test split`;
  process.stdout.write(`${result.passed ? 'PASS' : 'FAIL'} ${summary}\n`);
  for (const reason of result.reasons) process.stdout.write(`  ${reason}\n`);
  return result.passed ? 0 : 1;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`gate: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
