import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { ArtifactContents } from '../lib/model/artifact.ts';
import { DEFAULT_MODEL_NAME, getNextVersion, promoteVersion, publishVersion } from '../lib/registry/registry.ts';
import { CALIBRATION_RULE } from './calibration.ts';
import { createCardFiles } from './card.ts';
import { getPackageVersion } from './candidates.ts';
import { compareWithRegistry } from './changes.ts';
import { getDefaultWorkerCount } from './grower.ts';
import { DEFAULT_FOREST_GRID, DEFAULT_TRAINING_OPTIONS, SELECTION_RULE, getThresholdRule, runTraining, type TrainingOptions, type TrainingResult } from './pipeline.ts';

const USAGE = `Train the churn candidates, select one, and publish it as a new immutable registry version.

Usage: npm run train -- [options]
  --registry DIR     registry directory to publish into (default model-registry)
  --model NAME       model name in the registry (default ${DEFAULT_MODEL_NAME})
  --seed N           seed of the split, folds and bootstrap samples (default ${DEFAULT_TRAINING_OPTIONS.seed})
  --cost-ratio R     cost of missing a churner, in unneeded retention offers (default ${DEFAULT_TRAINING_OPTIONS.costRatio}); sets the threshold
  --promote ALIAS    also point ALIAS (e.g. staging) at the new version
  --grid wide        search wider tree and bagged-trees grids (slower; for exploration)
  --workers N        worker threads growing trees (default: one per core, ${getDefaultWorkerCount()} here); never changes the result
  --dry-run          train and report, publish nothing
  --help

A retrain whose parameters (model, encoding, calibration, drift reference, threshold, signature) equal a
published version's is reported as "unchanged <model> <version>" and not published again.`;

function getGitState(): { gitCommit: string | null; gitDirty: boolean | null } {
  try {
    const gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'training', 'lib'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { gitCommit, gitDirty: status.trim() !== '' };
  } catch {
    return { gitCommit: null, gitDirty: null };
  }
}

/** Assemble the files of a new version from a training run. */
export function createArtifactContents(result: TrainingResult, identity: { name: string; version: string; created: string }): ArtifactContents {
  const source = getGitState();
  const library = result.chosen.library;
  return {
    manifest: {
      name: identity.name,
      version: identity.version,
      created: identity.created,
      description: 'Probability that a telecom customer churns within the next month (IBM Telco Customer Churn sample).',
      algorithm: {
        name: result.chosen.family,
        library,
        libraryVersion: library === 'none' ? 'none' : getPackageVersion(library),
        hyperParameters: result.chosen.hyperParameters,
      },
      signature: result.signature,
      threshold: result.threshold,
      thresholdRule: getThresholdRule(result.options.costRatio),
      costRatio: result.options.costRatio,
      calibration: { method: result.calibration.method, rule: CALIBRATION_RULE },
      metrics: {
        cv: {
          rocAucMean: result.chosen.rocAucMean,
          rocAucStd: result.chosen.rocAucStd,
          folds: result.options.folds,
          brier: result.cv.brier,
          logLoss: result.cv.logLoss,
        },
        test: result.test,
        trainingBaseRate: result.data.trainingBaseRate,
      },
      data: {
        path: result.data.path,
        sha256: result.data.sha256,
        rows: result.data.rows,
        trainRows: result.data.trainRows,
        testRows: result.data.testRows,
      },
      training: { seed: result.options.seed, folds: result.options.folds, testFraction: result.options.testFraction, selectionRule: SELECTION_RULE },
      source,
      runtime: {
        node: process.version,
        'ml-cart': getPackageVersion('ml-cart'),
        'ml-naivebayes': getPackageVersion('ml-naivebayes'),
        zod: getPackageVersion('zod'),
      },
    },
    model: result.model,
    encoding: result.encoding,
    calibration: result.calibration,
    reference: result.reference,
    attachments: createCardFiles(result, { ...identity, gitCommit: source.gitCommit }),
  };
}

/** Where and how {@link publishTrainingResult} publishes. */
export interface PublishOptions {
  registry: string;
  model: string;
  promote?: string | undefined;
  created?: string;
}

/**
 * Publish a training run as the next version of `model`, or, when its parameters equal a published
 * version's, publish nothing and say which version it reproduces. The history records what the new
 * version changes against the latest one.
 */
export async function publishTrainingResult(
  result: TrainingResult,
  { registry, model, promote, created = new Date().toISOString() }: PublishOptions,
  log: (line: string) => void,
): Promise<{ outcome: 'published' | 'unchanged'; version: string; digest: string }> {
  const { version, reasons } = await getNextVersion(registry, model, result.signature);
  const contents = createArtifactContents(result, { name: model, version, created });
  const comparison = await compareWithRegistry(registry, model, contents);
  if (comparison.identical !== undefined) {
    const { identical } = comparison;
    log(`unchanged ${model} ${identical.version} (its parameters equal this run's; nothing published${promote === undefined ? '' : `, ${promote} not moved`})`);
    log(`digest ${identical.digest}`);
    return { outcome: 'unchanged', ...identical };
  }
  const changes = comparison.latest === undefined ? [] : [`changes from ${comparison.latest.version}: ${comparison.latest.changes.join(', ')}`];
  const reason = [...reasons, ...changes].join('; ');
  const { digest } = await publishVersion(registry, contents, { reason });
  log(`published ${model} ${version} (${reason}) to ${registry}/${model}/${version}`);
  log(`digest ${digest}`);
  if (promote !== undefined) {
    await promoteVersion(registry, model, promote, version, { reason: 'promoted by npm run train --promote' });
    log(`${promote} -> ${version}`);
  }
  return { outcome: 'published', version, digest };
}

function parsePositive(name: string, text: string, integer: boolean): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}`);
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      registry: { type: 'string', default: 'model-registry' },
      model: { type: 'string', default: DEFAULT_MODEL_NAME },
      seed: { type: 'string', default: String(DEFAULT_TRAINING_OPTIONS.seed) },
      'cost-ratio': { type: 'string', default: String(DEFAULT_TRAINING_OPTIONS.costRatio) },
      promote: { type: 'string' },
      grid: { type: 'string', default: 'default' },
      workers: { type: 'string', default: String(getDefaultWorkerCount()) },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer`);
  if (values.grid !== 'default' && values.grid !== 'wide') throw new Error(`--grid must be default or wide`);
  const options: TrainingOptions = { ...DEFAULT_TRAINING_OPTIONS, seed, costRatio: parsePositive('cost-ratio', values['cost-ratio'], false) };
  if (values.grid === 'wide') {
    options.treeGrid = [2, 3, 4, 5, 6, 7, 8, 10, 12].flatMap((maxDepth) =>
      [3, 10, 25, 50, 100, 200].flatMap((minNumSamples) => [0.01, 0.001, 0].map((gainThreshold) => ({ maxDepth, minNumSamples, gainThreshold }))),
    );
    const rules = [3, 4, 5, 6, 7, 8, 9].flatMap((maxDepth) => [5, 10, 25, 50, 100, 200].map((minNumSamples) => ({ maxDepth, minNumSamples, gainThreshold: 0 })));
    options.forestGrids = [1, 0.5].flatMap((featureFraction) => [25, 100].map((trees) => ({ ...DEFAULT_FOREST_GRID, trees, featureFraction, rules })));
  }

  const log = (line: string) => process.stdout.write(`${line}\n`);
  const result = await runTraining(options, { log, workers: parsePositive('workers', values.workers, true) });
  const ranked = [...result.results].sort((a, b) => b.rocAucMean - a.rocAucMean);
  log(`candidates (${result.results.length}), best first:`);
  for (const candidate of ranked.slice(0, 8)) {
    log(`  ${candidate.rocAucMean.toFixed(4)} ± ${candidate.rocAucStd.toFixed(4)}  Brier ${candidate.brier.toFixed(4)}  ${candidate.id}${candidate === result.chosen ? '  <- chosen' : ''}`);
  }
  log('best of each family (selection rule within the family):');
  for (const { best } of result.families) {
    log(`  ${best.rocAucMean.toFixed(4)} ± ${best.rocAucStd.toFixed(4)}  Brier ${best.brier.toFixed(4)}  log loss ${best.logLoss.toFixed(4)}  ${best.id} (rank ${ranked.indexOf(best) + 1})`);
  }
  log(`calibration (cross-fitted on out-of-fold probabilities): ${result.calibrationScores.map((s) => `${s.method} log loss ${s.logLoss.toFixed(4)} Brier ${s.brier.toFixed(4)} ECE ${s.ece.toFixed(4)}`).join('; ')} -> ${result.calibration.method}`);
  const { test } = result;
  log(
    `test split at threshold ${result.threshold.toFixed(4)}: ROC AUC ${test.rocAuc.toFixed(4)}, Brier ${test.brier.toFixed(4)}, log loss ${test.logLoss.toFixed(4)}, ECE ${test.ece.toFixed(4)}, accuracy ${test.accuracy.toFixed(4)}, precision ${test.precision.toFixed(4)}, recall ${test.recall.toFixed(4)}, F1 ${test.f1.toFixed(4)}`,
  );
  for (const [split, costs] of Object.entries(result.costs)) {
    log(
      `expected cost per customer (${split}, cost ratio ${costs.costRatio}): served ${costs.served.cost.toFixed(4)}, best-F1 threshold ${costs.bestF1.threshold.toFixed(4)} ${costs.bestF1.cost.toFixed(4)}, flag everyone ${costs.flagEveryone.toFixed(4)}, flag no one ${costs.flagNoOne.toFixed(4)}`,
    );
  }
  log(`trained in ${result.seconds.toFixed(1)} s (${Object.entries(result.timings).map(([family, seconds]) => `${family} ${seconds.toFixed(1)} s`).join(', ')})`);
  if (values['dry-run']) return 0;
  await publishTrainingResult(result, { registry: values.registry, model: values.model, promote: values.promote }, log);
  return 0;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`train: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
