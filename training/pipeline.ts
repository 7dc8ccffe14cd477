import type { ClassificationMetrics } from '../lib/model/artifact.ts';
import { createEncoder, createEncodingSpec, type EncodingSpec } from '../lib/model/encoding.ts';
import { createPredictor, predictProbabilities, type ModelParameters } from '../lib/model/predictor.ts';
import type { Instance, Signature } from '../lib/model/signature.ts';
import { createDecisionTree, createGaussianNB, createMajorityBaseline, type Candidate, type TreeSettings } from './candidates.ts';
import { LABEL, readDataset } from './dataset.ts';
import { getBestF1Threshold, getClassificationMetrics, getMeanAndStd, getRocAuc, getRocCurve, type RocPoint } from './metrics.ts';
import { createRandom, createStratifiedFolds, splitStratified } from './sampling.ts';

/** How a training run samples, validates and selects. */
export interface TrainingOptions {
  dataPath: string;
  seed: number;
  folds: number;
  testFraction: number;
  treeGrid: TreeSettings[];
}

/**
 * The tree grid searched by default: depth, minimum node size and minimum gain. ml-cart's default
 * gain threshold (0.01) stops below depth 4 on this data and never placed in a wider exploration.
 */
export const DEFAULT_TREE_GRID: TreeSettings[] = [3, 4, 5, 6, 7, 8].flatMap((maxDepth) =>
  [25, 50, 100, 200].flatMap((minNumSamples) => [0.001, 0].map((gainThreshold) => ({ maxDepth, minNumSamples, gainThreshold }))),
);

/** Defaults of {@link TrainingOptions}. */
export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = {
  dataPath: 'training/data/telco-churn.csv',
  seed: 20260101,
  folds: 5,
  testFraction: 0.2,
  treeGrid: DEFAULT_TREE_GRID,
};

/** The rule that picks the served candidate; stated before any score is computed. */
export const SELECTION_RULE =
  'highest mean ROC AUC over the cross-validation folds of the training split; the test split is never consulted; ties go to the candidate listed first (simpler)';

/** The rule that picks the served decision threshold. */
export const THRESHOLD_RULE =
  'the threshold maximising F1 of churners on the chosen candidate’s out-of-fold cross-validation probabilities (never the test split)';

/** Cross-validation scores of one candidate. */
export interface CandidateResult {
  id: string;
  family: Candidate['family'];
  library: string;
  hyperParameters: Candidate['hyperParameters'];
  foldAucs: number[];
  rocAucMean: number;
  rocAucStd: number;
  /** Brier score of the out-of-fold probabilities: how far they are from the outcomes (lower is better). */
  brier: number;
  seconds: number;
}

/** Everything a training run produced: the chosen model, its evidence and the data it came from. */
export interface TrainingResult {
  options: TrainingOptions;
  data: { path: string; sha256: string; rows: number; trainRows: number; testRows: number; baseRate: number; trainingBaseRate: number };
  signature: Signature;
  results: CandidateResult[];
  chosen: CandidateResult;
  model: ModelParameters;
  encoding: EncodingSpec;
  threshold: number;
  outOfFoldF1: number;
  test: ClassificationMetrics;
  testAtHalf: ClassificationMetrics;
  testRoc: RocPoint[];
  testSubgroups: SubgroupMetrics[];
  seconds: number;
}

/** Test-split behaviour of the served model within one group of customers. */
export interface SubgroupMetrics {
  input: string;
  value: number | string;
  rows: number;
  actualRate: number;
  predictedRate: number;
  recall: number;
  precision: number;
}

const SUBGROUP_INPUTS = ['female', 'senior_citizen', 'contract'];

function getSubgroupMetrics(instances: Instance[], scores: Float64Array, labels: number[], threshold: number): SubgroupMetrics[] {
  const groups: SubgroupMetrics[] = [];
  for (const input of SUBGROUP_INPUTS) {
    const values = [...new Set(instances.map((instance) => instance[input]!))].sort();
    for (const value of values) {
      const members = instances.flatMap((instance, i) => (instance[input] === value ? [i] : []));
      const metrics = getClassificationMetrics(
        members.map((i) => scores[i]!),
        members.map((i) => labels[i]!),
        threshold,
      );
      const { tp, fp, fn } = metrics.confusion;
      groups.push({
        input,
        value,
        rows: members.length,
        actualRate: (tp + fn) / members.length,
        predictedRate: (tp + fp) / members.length,
        recall: metrics.recall,
        precision: metrics.precision,
      });
    }
  }
  return groups;
}

/** Encode instances into the row arrays ml-cart and ml-naivebayes take. */
export function encodeRows(encoding: EncodingSpec, instances: Instance[]): number[][] {
  const encode = createEncoder(encoding);
  const vector = new Float64Array(encoding.columns.length);
  return instances.map((instance) => {
    encode(instance, vector, 0);
    return Array.from(vector);
  });
}

/** Score rows with fitted parameters: P(positive class) per row. */
export function scoreRows(model: ModelParameters, rows: number[][], positiveClass = LABEL.positiveClass): Float64Array {
  const predictor = createPredictor(model, positiveClass);
  return predictProbabilities(predictor, Float64Array.from(rows.flat()), rows.length);
}

/** List the candidates of a run: the majority baseline, the tree grid and two naive Bayes feature sets. */
export function createCandidates(signature: Signature, treeGrid: TreeSettings[]): Candidate[] {
  const nullValues = { total_charges: 0 };
  const full = createEncodingSpec(signature, { nullValues });
  // total_charges is close to tenure x monthly_charges; naive Bayes counts that evidence twice.
  const withoutTotal = createEncodingSpec(signature, { exclude: ['total_charges'] });
  return [
    createMajorityBaseline(LABEL.classes, full),
    createGaussianNB(LABEL.classes, full, { label: 'all features' }),
    createGaussianNB(LABEL.classes, withoutTotal, { label: 'without total_charges' }),
    ...treeGrid.map((settings) => createDecisionTree(LABEL.classes, full, settings)),
  ];
}

/**
 * Train and select: a stratified test split set aside first, stratified k-fold cross-validation of
 * every candidate on the rest, selection by {@link SELECTION_RULE}, threshold by
 * {@link THRESHOLD_RULE}, then the winner refitted on the whole training split and measured once on
 * the test split. Deterministic for a given data file and seed.
 */
export async function runTraining(options: TrainingOptions = DEFAULT_TRAINING_OPTIONS, log: (line: string) => void = () => {}): Promise<TrainingResult> {
  const started = performance.now();
  const dataset = await readDataset(options.dataPath);
  const { instances, labels } = dataset;
  const random = createRandom(options.seed);
  const split = splitStratified(labels, options.testFraction, random);
  const folds = createStratifiedFolds(labels, split.train, options.folds, random);
  const trainingBaseRate = split.train.filter((i) => labels[i] === 1).length / split.train.length;
  log(`data: ${instances.length} rows (${split.train.length} train, ${split.test.length} test), ${options.folds}-fold CV, seed ${options.seed}`);

  const rowsByEncoding = new Map<EncodingSpec, number[][]>();
  const getRows = (encoding: EncodingSpec): number[][] => {
    let rows = rowsByEncoding.get(encoding);
    if (rows === undefined) {
      rows = encodeRows(encoding, instances);
      rowsByEncoding.set(encoding, rows);
    }
    return rows;
  };
  const pick = <T>(items: T[], indices: number[]): T[] => indices.map((i) => items[i]!);

  const candidates = createCandidates(dataset.signature, options.treeGrid);
  const results: CandidateResult[] = [];
  const outOfFold = new Map<string, { scores: number[]; labels: number[] }>();
  for (const candidate of candidates) {
    const candidateStarted = performance.now();
    const rows = getRows(candidate.encoding);
    const foldAucs: number[] = [];
    const oof = { scores: [] as number[], labels: [] as number[] };
    folds.forEach((validation, f) => {
      const fit = folds.flatMap((fold, g) => (g === f ? [] : fold));
      const model = candidate.fit(pick(rows, fit), pick(labels, fit));
      const scores = scoreRows(model, pick(rows, validation));
      const validationLabels = pick(labels, validation);
      foldAucs.push(getRocAuc(scores, validationLabels));
      oof.scores.push(...scores);
      oof.labels.push(...validationLabels);
    });
    outOfFold.set(candidate.id, oof);
    const { mean, std } = getMeanAndStd(foldAucs);
    results.push({
      id: candidate.id,
      family: candidate.family,
      library: candidate.library,
      hyperParameters: candidate.hyperParameters,
      foldAucs,
      rocAucMean: mean,
      rocAucStd: std,
      brier: oof.scores.reduce((sum, score, i) => sum + (score - oof.labels[i]!) ** 2, 0) / oof.scores.length,
      seconds: (performance.now() - candidateStarted) / 1000,
    });
  }

  const chosen = results.reduce((best, result) => (result.rocAucMean > best.rocAucMean ? result : best));
  const candidate = candidates.find((c) => c.id === chosen.id)!;
  const oof = outOfFold.get(chosen.id)!;
  const { threshold, f1: outOfFoldF1 } = getBestF1Threshold(oof.scores, oof.labels);
  log(`chosen: ${chosen.id} (CV ROC AUC ${chosen.rocAucMean.toFixed(4)} ± ${chosen.rocAucStd.toFixed(4)}), threshold ${threshold.toFixed(4)}`);

  const rows = getRows(candidate.encoding);
  const model = candidate.fit(pick(rows, split.train), pick(labels, split.train));
  const testLabels = pick(labels, split.test);
  const testScores = scoreRows(model, pick(rows, split.test));
  return {
    options,
    data: {
      path: dataset.path,
      sha256: dataset.sha256,
      rows: instances.length,
      trainRows: split.train.length,
      testRows: split.test.length,
      baseRate: labels.filter((label) => label === 1).length / labels.length,
      trainingBaseRate,
    },
    signature: dataset.signature,
    results,
    chosen,
    model,
    encoding: candidate.encoding,
    threshold,
    outOfFoldF1,
    test: getClassificationMetrics(testScores, testLabels, threshold),
    testAtHalf: getClassificationMetrics(testScores, testLabels, 0.5),
    testRoc: getRocCurve(testScores, testLabels),
    testSubgroups: getSubgroupMetrics(pick(instances, split.test), testScores, testLabels, threshold),
    seconds: (performance.now() - started) / 1000,
  };
}
