import type { ClassificationMetrics } from '../lib/model/artifact.ts';
import { createCalibrator, type Calibration } from '../lib/model/calibration.ts';
import { createEncoder, createEncodingSpec, type EncodingSpec } from '../lib/model/encoding.ts';
import { createPredictor, predictProbabilities, type ModelParameters } from '../lib/model/predictor.ts';
import { computeDriftReference, type DriftReference } from '../lib/model/reference.ts';
import type { Instance, Signature } from '../lib/model/signature.ts';
import { chooseCalibration, type CalibrationScore } from './calibration.ts';
import type { StoppingRules } from './cart.ts';
import { createBaggedTrees, createDecisionTrees, createGaussianNB, createMajorityBaseline, type BaggedTreesGrid, type Candidate, type CandidateGroup } from './candidates.ts';
import { LABEL, readDataset } from './dataset.ts';
import { createTreeGrower, getDefaultWorkerCount, type TreeGrower } from './grower.ts';
import {
  getBestF1Threshold,
  getBrierScore,
  getClassificationMetrics,
  getExpectedCalibrationError,
  getExpectedCost,
  getLogLoss,
  getMeanAndStd,
  getMinimumCostThreshold,
  getReliabilityBins,
  getRocAuc,
  getRocCurve,
  type ReliabilityBin,
  type RocPoint,
} from './metrics.ts';
import { createRandom, createStratifiedFolds, deriveSeed, splitStratified } from './sampling.ts';

/** How a training run samples, validates, selects and decides. */
export interface TrainingOptions {
  dataPath: string;
  seed: number;
  folds: number;
  testFraction: number;
  treeGrid: StoppingRules[];
  /** One bagged-trees grid per number of trees and feature fraction; each is grown once per fold. */
  forestGrids: BaggedTreesGrid[];
  /** Cost of a missed churner in units of an unneeded retention offer: the input of the threshold rule. */
  costRatio: number;
}

/**
 * The tree grid searched by default: depth, minimum node size and minimum gain. ml-cart's default
 * gain threshold (0.01) stops below depth 4 on this data and never placed in a wider exploration.
 */
export const DEFAULT_TREE_GRID: StoppingRules[] = [3, 4, 5, 6, 7, 8].flatMap((maxDepth) =>
  [25, 50, 100, 200].flatMap((minNumSamples) => [0.001, 0].map((gainThreshold) => ({ maxDepth, minNumSamples, gainThreshold }))),
);

/**
 * The bagged-trees grid searched by default: 50 trees on bootstrap samples of all columns, depth 4–6,
 * minimum node size 25–200. Explored on the training folds (README, decision log), CV ROC AUC stopped
 * rising by 25–50 trees, and depth 7 and beyond never beat depth 5–6 while each depth-7 tree costs 40%
 * more to grow; every tree also costs serving time. `--grid wide` still searches depth 3–9.
 */
export const DEFAULT_FOREST_GRID: BaggedTreesGrid = {
  trees: 50,
  featureFraction: 1,
  rules: [4, 5, 6].flatMap((maxDepth) => [25, 50, 100, 200].map((minNumSamples) => ({ maxDepth, minNumSamples, gainThreshold: 0 }))),
};

/**
 * Default cost of missing a churner, in unneeded retention offers. Assumptions (README, "The decision
 * threshold"): an offer costs about one month's bill; a churner who gets it stays with probability 1/2;
 * a churner who stays pays about 12 more bills. A miss forgoes 0.5 × 12 − 1 = 5 bills; a needless offer costs 1.
 */
export const DEFAULT_COST_RATIO = 5;

/** Defaults of {@link TrainingOptions}. */
export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = {
  dataPath: 'training/data/telco-churn.csv',
  seed: 20260101,
  folds: 5,
  testFraction: 0.2,
  treeGrid: DEFAULT_TREE_GRID,
  forestGrids: [DEFAULT_FOREST_GRID],
  costRatio: DEFAULT_COST_RATIO,
};

/** The rule that picks the served candidate; stated before any score is computed. */
export const SELECTION_RULE =
  'highest mean ROC AUC over the cross-validation folds of the training split; every candidate within one standard error of it (the best one’s fold standard deviation / √folds) counts as tied, and of those the lowest out-of-fold Brier score wins; remaining ties go to the candidate listed first (simpler); the test split is never consulted';

/** The rule that picks the served decision threshold for a cost ratio. */
export function getThresholdRule(costRatio: number): string {
  return `the threshold with the lowest expected cost (each unneeded retention offer costs 1, each missed churner ${costRatio}) on the chosen candidate’s out-of-fold probabilities after the served calibration (never the test split)`;
}

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
  /** Log loss of the out-of-fold probabilities; Infinity when a churner got probability 0 (or a stayer 1). */
  logLoss: number;
}

/** The best candidate of a family by the selection rule, and how well its probabilities calibrate. */
export interface FamilySummary {
  best: CandidateResult;
  calibration: CalibrationScore[];
}

/** Expected cost per customer, in unneeded offers, of the served threshold and its alternatives. */
export interface CostComparison {
  costRatio: number;
  served: { threshold: number; cost: number };
  bestF1: { threshold: number; cost: number };
  flagEveryone: number;
  flagNoOne: number;
}

/** Test-split behaviour of the served model within one group of customers. */
export interface SubgroupMetrics {
  input: string;
  value: number | string;
  rows: number;
  churnRate: number;
  /** Share of all test churners who are in this group. */
  churnerShare: number;
  meanProbability: number;
  /** NaN when the group holds only one class. */
  rocAuc: number;
  flaggedRate: number;
  recall: number;
  precision: number;
  /** The highest probability the model gives any customer of this group in the whole data set. */
  highestProbability: number;
  /** Each `kind: detail`, e.g. `never flagged: …`. */
  warnings: string[];
}

/** Everything a training run produced: the chosen model, its evidence and the data it came from. */
export interface TrainingResult {
  options: TrainingOptions;
  data: { path: string; sha256: string; rows: number; trainRows: number; testRows: number; baseRate: number; trainingBaseRate: number };
  signature: Signature;
  results: CandidateResult[];
  families: FamilySummary[];
  chosen: CandidateResult;
  model: ModelParameters;
  encoding: EncodingSpec;
  calibration: Calibration;
  /** Cross-fitted scores of every calibration method on the chosen candidate's out-of-fold probabilities. */
  calibrationScores: CalibrationScore[];
  /** The served probabilities' out-of-fold quality: cross-fitted calibration, as on unseen customers. */
  cv: { brier: number; logLoss: number; ece: number };
  threshold: number;
  costs: { outOfFold: CostComparison; test: CostComparison };
  test: Required<ClassificationMetrics>;
  testAtHalf: Required<ClassificationMetrics>;
  testAtBestF1: Required<ClassificationMetrics>;
  testRoc: RocPoint[];
  testReliability: ReliabilityBin[];
  testSubgroups: SubgroupMetrics[];
  /** How many different probabilities the served model gives the customers of the data set and of the test split. */
  distinctProbabilities: { data: number; test: number };
  reference: DriftReference;
  seconds: number;
  /** Seconds spent cross-validating each family. */
  timings: Record<string, number>;
  workers: number;
}

const SUBGROUP_INPUTS = ['contract', 'senior_citizen', 'female'];
/** A group's ROC AUC below this earns a "weak ranking" warning in the model card. */
export const WEAK_GROUP_AUC = 0.7;
/** A group with fewer test churners than this earns a "few churners" warning. */
export const FEW_CHURNERS = 20;
/** A gap between a group's mean probability and churn rate above this earns a "miscalibrated" warning. */
export const MISCALIBRATION = 0.05;

function getSubgroupMetrics(
  instances: Instance[],
  test: { indices: number[]; scores: Float64Array; labels: number[] },
  allScores: Float64Array,
  threshold: number,
  overallRecall: number,
): SubgroupMetrics[] {
  const groups: SubgroupMetrics[] = [];
  const churners = test.labels.filter((label) => label === 1).length;
  for (const input of SUBGROUP_INPUTS) {
    const values = [...new Set(instances.map((instance) => instance[input]!))].sort();
    for (const value of values) {
      const members = test.indices.flatMap((row, i) => (instances[row]![input] === value ? [i] : []));
      const scores = members.map((i) => test.scores[i]!);
      const labels = members.map((i) => test.labels[i]!);
      const metrics = getClassificationMetrics(scores, labels, threshold);
      const { tp, fp, fn } = metrics.confusion;
      let highestProbability = 0;
      instances.forEach((instance, row) => {
        if (instance[input] === value) highestProbability = Math.max(highestProbability, allScores[row]!);
      });
      const group = {
        input,
        value,
        rows: members.length,
        churnRate: (tp + fn) / members.length,
        churnerShare: (tp + fn) / churners,
        meanProbability: scores.reduce((sum, score) => sum + score, 0) / members.length,
        rocAuc: getRocAuc(scores, labels),
        flaggedRate: (tp + fp) / members.length,
        recall: metrics.recall,
        precision: metrics.precision,
        highestProbability,
        warnings: [] as string[],
      };
      const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
      if (highestProbability < threshold) {
        group.warnings.push(
          `never flagged: no customer of this group in the data reaches the threshold (highest probability ${highestProbability.toFixed(3)}), so its churners (${percent(group.churnerShare)} of test churners) are always missed`,
        );
      } else if (group.recall < overallRecall / 2) {
        group.warnings.push(`rarely flagged: recall ${percent(group.recall)}, under half the overall ${percent(overallRecall)}`);
      }
      if (group.rocAuc < WEAK_GROUP_AUC) group.warnings.push(`weak ranking: ROC AUC ${group.rocAuc.toFixed(3)} within the group, under ${WEAK_GROUP_AUC}`);
      if (Math.abs(group.meanProbability - group.churnRate) > MISCALIBRATION) {
        group.warnings.push(`miscalibrated: mean probability ${percent(group.meanProbability)} against ${percent(group.churnRate)} churn`);
      }
      const groupChurners = tp + fn;
      if (groupChurners < FEW_CHURNERS) group.warnings.push(`few churners: ${groupChurners} in the test split, so its ROC AUC and recall are noisy`);
      groups.push(group);
    }
  }
  return groups;
}

/** Encode instances, valid for `signature`, into the row arrays ml-cart and ml-naivebayes take. */
export function encodeRows(encoding: EncodingSpec, signature: Signature, instances: Instance[]): number[][] {
  const encode = createEncoder(encoding, signature);
  const vector = new Float64Array(encoding.columns.length);
  return instances.map((instance) => {
    encode(instance, vector, 0);
    return Array.from(vector);
  });
}

/** Score rows with fitted parameters, through a calibration when given: P(positive class) per row. */
export function scoreRows(model: ModelParameters, rows: number[][], { positiveClass = LABEL.positiveClass, calibration }: { positiveClass?: string; calibration?: Calibration } = {}): Float64Array {
  const predictor = createPredictor(model, positiveClass, calibration);
  return predictProbabilities(predictor, Float64Array.from(rows.flat()), rows.length);
}

/**
 * List the candidates of a run, in the order ties are broken (simpler first): the majority baseline, two
 * naive Bayes feature sets, the tree grid and the bagged-trees grids.
 */
export function createCandidateGroups(signature: Signature, options: Pick<TrainingOptions, 'treeGrid' | 'forestGrids'>, grower: TreeGrower): CandidateGroup[] {
  const nullValues = { total_charges: 0 };
  const full = createEncodingSpec(signature, { nullValues });
  // total_charges is close to tenure x monthly_charges; naive Bayes counts that evidence twice.
  const withoutTotal = createEncodingSpec(signature, { exclude: ['total_charges'] });
  return [
    createMajorityBaseline(LABEL.classes, full),
    createGaussianNB(LABEL.classes, full, { label: 'all features' }),
    createGaussianNB(LABEL.classes, withoutTotal, { label: 'without total_charges' }),
    createDecisionTrees(LABEL.classes, full, options.treeGrid),
    ...options.forestGrids.map((grid) => createBaggedTrees(LABEL.classes, full, grid, grower)),
  ];
}

/** Pick a candidate by {@link SELECTION_RULE}. */
export function selectCandidate<T extends Pick<CandidateResult, 'rocAucMean' | 'rocAucStd' | 'brier'>>(results: T[], folds: number): T {
  const best = results.reduce((top, result) => (result.rocAucMean > top.rocAucMean ? result : top));
  const bar = best.rocAucMean - best.rocAucStd / Math.sqrt(folds);
  return results.filter((result) => result.rocAucMean >= bar).reduce((chosen, result) => (result.brier < chosen.brier ? result : chosen));
}

function getCostComparison(scores: ArrayLike<number>, labels: number[], threshold: number, bestF1Threshold: number, costRatio: number): CostComparison {
  return {
    costRatio,
    served: { threshold, cost: getExpectedCost(scores, labels, threshold, costRatio) },
    bestF1: { threshold: bestF1Threshold, cost: getExpectedCost(scores, labels, bestF1Threshold, costRatio) },
    flagEveryone: getExpectedCost(scores, labels, -Infinity, costRatio),
    flagNoOne: getExpectedCost(scores, labels, Infinity, costRatio),
  };
}

interface OutOfFold {
  scores: number[];
  labels: number[];
  folds: number[];
}

/**
 * Train and select: a stratified test split set aside first; stratified k-fold cross-validation of every
 * candidate on the rest; selection by {@link SELECTION_RULE}; a calibration chosen and fitted on the
 * winner's out-of-fold probabilities; the threshold by {@link getThresholdRule}; then the winner refitted
 * on the whole training split and measured once on the test split. Deterministic for a given data file,
 * seed and options, whatever the number of `workers` growing trees.
 */
export async function runTraining(
  options: TrainingOptions = DEFAULT_TRAINING_OPTIONS,
  { log = () => {}, workers = getDefaultWorkerCount() }: { log?: (line: string) => void; workers?: number } = {},
): Promise<TrainingResult> {
  const started = performance.now();
  const dataset = await readDataset(options.dataPath);
  const { instances, labels } = dataset;
  const random = createRandom(options.seed);
  const split = splitStratified(labels, options.testFraction, random);
  const folds = createStratifiedFolds(labels, split.train, options.folds, random);
  const trainingBaseRate = split.train.filter((i) => labels[i] === 1).length / split.train.length;
  log(`data: ${instances.length} rows (${split.train.length} train, ${split.test.length} test), ${options.folds}-fold CV, seed ${options.seed}, ${workers} worker(s)`);

  const rowsByEncoding = new Map<string, number[][]>();
  const getRows = (encoding: EncodingSpec): number[][] => {
    const key = JSON.stringify(encoding);
    let rows = rowsByEncoding.get(key);
    if (rows === undefined) {
      rows = encodeRows(encoding, dataset.signature, instances);
      rowsByEncoding.set(key, rows);
    }
    return rows;
  };
  const pick = <T>(items: T[], indices: number[]): T[] => indices.map((i) => items[i]!);
  const fullEncoding = createEncodingSpec(dataset.signature, { nullValues: { total_charges: 0 } });
  const grower = createTreeGrower(getRows(fullEncoding), labels, { workers, classCount: LABEL.classes.length });

  try {
    const groups = createCandidateGroups(dataset.signature, options, grower);
    const results: CandidateResult[] = [];
    const outOfFold = new Map<string, OutOfFold>();
    const timings: Record<string, number> = {};
    for (const group of groups) {
      const groupStarted = performance.now();
      const rows = getRows(group.candidates[0]!.encoding);
      const foldAucs = group.candidates.map(() => [] as number[]);
      const oofs: OutOfFold[] = group.candidates.map(() => ({ scores: [], labels: [], folds: [] }));
      // Every fold's fit is started at once, so worker threads growing trees never wait between folds.
      const fits = await Promise.all(folds.map((_, f) => group.fit({ rows, labels, indices: folds.flatMap((fold, g) => (g === f ? [] : fold)), seed: deriveSeed(options.seed, f) })));
      for (const [f, validation] of folds.entries()) {
        const models = fits[f]!;
        const validationRows = pick(rows, validation);
        const validationLabels = pick(labels, validation);
        models.forEach((model, k) => {
          const scores = scoreRows(model, validationRows);
          foldAucs[k]!.push(getRocAuc(scores, validationLabels));
          oofs[k]!.scores.push(...scores);
          oofs[k]!.labels.push(...validationLabels);
          oofs[k]!.folds.push(...validationLabels.map(() => f));
        });
      }
      group.candidates.forEach((candidate, k) => {
        const oof = oofs[k]!;
        outOfFold.set(candidate.id, oof);
        const { mean, std } = getMeanAndStd(foldAucs[k]!);
        results.push({
          id: candidate.id,
          family: candidate.family,
          library: candidate.library,
          hyperParameters: candidate.hyperParameters,
          foldAucs: foldAucs[k]!,
          rocAucMean: mean,
          rocAucStd: std,
          brier: getBrierScore(oof.scores, oof.labels),
          logLoss: getLogLoss(oof.scores, oof.labels),
        });
      });
      const family = group.candidates[0]!.family;
      timings[family] = (timings[family] ?? 0) + (performance.now() - groupStarted) / 1000;
      log(`  ${family}: ${group.candidates.length} candidate(s) cross-validated in ${((performance.now() - groupStarted) / 1000).toFixed(1)} s`);
    }

    const chosen = selectCandidate(results, options.folds);
    const group = groups.find((g) => g.candidates.some((c) => c.id === chosen.id))!;
    const member = group.candidates.findIndex((c) => c.id === chosen.id);
    const oof = outOfFold.get(chosen.id)!;
    const calibrationChoice = chooseCalibration(oof.scores, oof.labels, oof.folds);
    const { calibration } = calibrationChoice;
    const chosenScore = calibrationChoice.scores.find((score) => score.method === calibration.method)!;
    const servedOutOfFold = Float64Array.from(oof.scores, createCalibrator(calibration));
    const { threshold } = getMinimumCostThreshold(servedOutOfFold, oof.labels, options.costRatio);
    const { threshold: bestF1Threshold } = getBestF1Threshold(servedOutOfFold, oof.labels);
    log(
      `chosen: ${chosen.id} (CV ROC AUC ${chosen.rocAucMean.toFixed(4)} ± ${chosen.rocAucStd.toFixed(4)}), calibration ${calibration.method}, threshold ${threshold.toFixed(4)} at cost ratio ${options.costRatio}`,
    );

    const families = [...new Set(results.map((r) => r.family))].map((family) => {
      const best = selectCandidate(
        results.filter((r) => r.family === family),
        options.folds,
      );
      const familyOof = outOfFold.get(best.id)!;
      return { best, calibration: chooseCalibration(familyOof.scores, familyOof.labels, familyOof.folds).scores };
    });

    const rows = getRows(group.candidates[member]!.encoding);
    const [model] = (await group.fit({ rows, labels, indices: split.train, seed: deriveSeed(options.seed, options.folds) }, [member])) as [ModelParameters];
    const allScores = scoreRows(model, rows, { calibration });
    const testScores = Float64Array.from(split.test, (i) => allScores[i]!);
    const testLabels = pick(labels, split.test);
    const test = getClassificationMetrics(testScores, testLabels, threshold);
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
      families,
      chosen,
      model,
      encoding: group.candidates[member]!.encoding,
      calibration,
      calibrationScores: calibrationChoice.scores,
      cv: { brier: chosenScore.brier, logLoss: chosenScore.logLoss, ece: getExpectedCalibrationError(calibrationChoice.crossFitted, oof.labels) },
      threshold,
      costs: {
        outOfFold: getCostComparison(servedOutOfFold, oof.labels, threshold, bestF1Threshold, options.costRatio),
        test: getCostComparison(testScores, testLabels, threshold, bestF1Threshold, options.costRatio),
      },
      test,
      testAtHalf: getClassificationMetrics(testScores, testLabels, 0.5),
      testAtBestF1: getClassificationMetrics(testScores, testLabels, bestF1Threshold),
      testRoc: getRocCurve(testScores, testLabels),
      testReliability: getReliabilityBins(testScores, testLabels),
      testSubgroups: getSubgroupMetrics(instances, { indices: split.test, scores: testScores, labels: testLabels }, allScores, threshold, test.recall),
      distinctProbabilities: { data: new Set(allScores).size, test: new Set(testScores).size },
      reference: computeDriftReference(dataset.signature, pick(instances, split.train)),
      seconds: (performance.now() - started) / 1000,
      timings,
      workers: grower.workers,
    };
  } finally {
    await grower.close();
  }
}
