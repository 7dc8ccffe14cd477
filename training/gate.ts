import { parseArgs } from 'node:util';
import type { LoadedArtifact } from '../lib/model/artifact.ts';
import { DEFAULT_MODEL_NAME, loadVersion } from '../lib/registry/registry.ts';
import { createDirectorySource } from '../lib/registry/source.ts';
import { readDataset, type Dataset } from './dataset.ts';
import { getRocAuc } from './metrics.ts';
import { encodeRows, scoreRows } from './pipeline.ts';
import { createRandom, splitStratified } from './sampling.ts';

/** The quality bar: no version below this test-split ROC AUC is published to production. */
export const MIN_TEST_ROC_AUC = 0.8;
/** How much worse than production a candidate may score (split noise), in ROC AUC. */
export const ROC_AUC_TOLERANCE = 0.005;

/** The verdict of {@link runGate}. */
export interface GateResult {
  passed: boolean;
  candidateRocAuc: number;
  productionRocAuc: number;
  reasons: string[];
}

/** Score a version on the given test rows of `dataset`, with its own encoding. */
function scoreOnTestSplit(artifact: LoadedArtifact, dataset: Dataset, test: number[]): number {
  const rows = encodeRows(
    artifact.encoding,
    test.map((row) => dataset.instances[row]!),
  );
  const scores = scoreRows(artifact.model, rows, artifact.manifest.signature.output.positiveClass);
  return getRocAuc(
    scores,
    test.map((row) => dataset.labels[row]!),
  );
}

/**
 * Decide whether a candidate may replace production: both are re-scored on the same test split (the
 * candidate's data, seed and fraction), so the comparison holds even when the data or the split
 * changed; the candidate must reach {@link MIN_TEST_ROC_AUC} and be no more than
 * {@link ROC_AUC_TOLERANCE} below production.
 */
export async function runGate(candidate: LoadedArtifact, production: LoadedArtifact, { minRocAuc = MIN_TEST_ROC_AUC, tolerance = ROC_AUC_TOLERANCE } = {}): Promise<GateResult> {
  const dataset = await readDataset(candidate.manifest.data.path);
  if (dataset.sha256 !== candidate.manifest.data.sha256) {
    throw new Error(`${candidate.manifest.data.path} is not the data the candidate was trained on (${candidate.manifest.data.sha256})`);
  }
  const { seed, testFraction } = candidate.manifest.training;
  const { test } = splitStratified(dataset.labels, testFraction, createRandom(seed));
  const candidateRocAuc = scoreOnTestSplit(candidate, dataset, test);
  const productionRocAuc = scoreOnTestSplit(production, dataset, test);
  const reasons: string[] = [];
  if (candidateRocAuc < minRocAuc) reasons.push(`test ROC AUC ${candidateRocAuc.toFixed(4)} is below the bar of ${minRocAuc}`);
  if (candidateRocAuc < productionRocAuc - tolerance) {
    reasons.push(`test ROC AUC ${candidateRocAuc.toFixed(4)} is worse than production's ${productionRocAuc.toFixed(4)} by more than ${tolerance}`);
  }
  return { passed: reasons.length === 0, candidateRocAuc, productionRocAuc, reasons };
}

const USAGE = `Gate a candidate model version against production before it may be published.

Usage: npm run gate -- --candidate-registry DIR --candidate VERSION [options]
  --registry DIR     the registry holding the reference (default model-registry)
  --against ALIAS    the reference alias or version (default production)
  --model NAME       model name (default ${DEFAULT_MODEL_NAME})
  --min-auc X        quality bar (default ${MIN_TEST_ROC_AUC})
  --tolerance X      allowed drop below the reference (default ${ROC_AUC_TOLERANCE})`;

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
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || values['candidate-registry'] === undefined || values.candidate === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const candidate = await loadVersion(createDirectorySource(values['candidate-registry']), values.model, values.candidate);
  const production = await loadVersion(createDirectorySource(values.registry), values.model, values.against);
  const result = await runGate(candidate, production, { minRocAuc: Number(values['min-auc']), tolerance: Number(values.tolerance) });
  const summary = `candidate ${candidate.manifest.version} test ROC AUC ${result.candidateRocAuc.toFixed(4)} vs ${values.against} ${production.manifest.version} ${result.productionRocAuc.toFixed(4)}`;
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
