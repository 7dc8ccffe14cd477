import type { ClassificationMetrics } from '../lib/model/artifact.ts';

/**
 * Area under the ROC curve as the Mann-Whitney statistic: the probability that a random positive
 * scores above a random negative, ties counting one half (average ranks).
 */
export function getRocAuc(scores: ArrayLike<number>, labels: readonly number[]): number {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]!] === scores[order[start]!]) end++;
    const averageRank = (start + end) / 2 + 1;
    for (let i = start; i <= end; i++) {
      if (labels[order[i]!] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** One point of a ROC curve: rows scoring at least `threshold` are predicted positive. */
export interface RocPoint {
  threshold: number;
  falsePositiveRate: number;
  truePositiveRate: number;
}

/** One cut of the scores: flagging every row scoring at least `threshold` gives `tp` and `fp`; `next` is the next lower distinct score. */
interface Cut {
  threshold: number;
  next: number | undefined;
  tp: number;
  fp: number;
}

/** Every cut between distinct scores, from the highest score down, with integer confusion counts. */
function getCuts(scores: ArrayLike<number>, labels: readonly number[]): Cut[] {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const cuts: Cut[] = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]!] === 1) tp++;
    else fp++;
    const score = scores[order[i]!]!;
    const next = i + 1 < order.length ? scores[order[i + 1]!]! : undefined;
    if (next !== score) cuts.push({ threshold: score, next, tp, fp });
  }
  return cuts;
}

/** The ROC curve, one point per distinct score from the highest down, starting at (0, 0). */
export function getRocCurve(scores: ArrayLike<number>, labels: readonly number[]): RocPoint[] {
  const positives = labels.filter((label) => label === 1).length;
  const negatives = labels.length - positives;
  return [
    { threshold: Infinity, falsePositiveRate: 0, truePositiveRate: 0 },
    ...getCuts(scores, labels).map(({ threshold, tp, fp }) => ({ threshold, falsePositiveRate: fp / negatives, truePositiveRate: tp / positives })),
  ];
}

/** Mean negative log-likelihood of the labels (natural log): Infinity as soon as one label gets probability 0. */
export function getLogLoss(scores: ArrayLike<number>, labels: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum -= Math.log(labels[i] === 1 ? scores[i]! : 1 - scores[i]!);
  return sum / labels.length;
}

/** Mean squared difference between probability and outcome. */
export function getBrierScore(scores: ArrayLike<number>, labels: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum += (scores[i]! - (labels[i] === 1 ? 1 : 0)) ** 2;
  return sum / labels.length;
}

/** Bins of a reliability diagram; the last bin includes 1. */
export const RELIABILITY_BINS = 10;

/** One bin of a reliability diagram: customers whose probability fell in `[from, to)`. */
export interface ReliabilityBin {
  from: number;
  to: number;
  count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  meanProbability: number;
  /** Share of positives in the bin (NaN when empty). */
  observedRate: number;
}

/** Group probabilities into equal-width bins with their mean prediction and observed positive share. */
export function getReliabilityBins(scores: ArrayLike<number>, labels: readonly number[], bins = RELIABILITY_BINS): ReliabilityBin[] {
  const counts = new Array<number>(bins).fill(0);
  const sums = new Array<number>(bins).fill(0);
  const positives = new Array<number>(bins).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const bin = Math.min(bins - 1, Math.floor(scores[i]! * bins));
    counts[bin]!++;
    sums[bin]! += scores[i]!;
    if (labels[i] === 1) positives[bin]!++;
  }
  return counts.map((count, bin) => ({
    from: bin / bins,
    to: (bin + 1) / bins,
    count,
    meanProbability: sums[bin]! / count,
    observedRate: positives[bin]! / count,
  }));
}

/**
 * Expected calibration error: over ten equal-width probability bins, the gap between mean predicted
 * probability and observed positive share, weighted by the bin's share of rows.
 */
export function getExpectedCalibrationError(scores: ArrayLike<number>, labels: readonly number[]): number {
  return getReliabilityBins(scores, labels)
    .filter((bin) => bin.count > 0)
    .reduce((sum, bin) => sum + (bin.count / labels.length) * Math.abs(bin.meanProbability - bin.observedRate), 0);
}

/** Confusion counts, precision, recall, F1, accuracy, ROC AUC, Brier score, log loss and ECE at a threshold. */
export function getClassificationMetrics(scores: ArrayLike<number>, labels: readonly number[], threshold: number): Required<ClassificationMetrics> {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let squaredError = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = scores[i]! >= threshold;
    const actual = labels[i] === 1;
    if (predicted && actual) tp++;
    else if (predicted) fp++;
    else if (actual) fn++;
    else tn++;
    squaredError += (scores[i]! - (actual ? 1 : 0)) ** 2;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return {
    rocAuc: getRocAuc(scores, labels),
    accuracy: (tp + tn) / labels.length,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    brier: squaredError / labels.length,
    logLoss: getLogLoss(scores, labels),
    ece: getExpectedCalibrationError(scores, labels),
    confusion: { tp, fp, tn, fn },
  };
}

/**
 * The threshold that maximises F1 of the positive class: halfway between two neighbouring distinct
 * scores, so it does not sit exactly on a score the model produces.
 */
export function getBestF1Threshold(scores: ArrayLike<number>, labels: readonly number[]): { threshold: number; f1: number } {
  const positives = labels.filter((label) => label === 1).length;
  let best = { threshold: 0.5, f1: -1 };
  for (const { threshold, next, tp, fp } of getCuts(scores, labels)) {
    const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + (positives - tp));
    if (f1 > best.f1) best = { threshold: (threshold + (next ?? 0)) / 2, f1 };
  }
  return best;
}

/**
 * Expected cost per customer of flagging those at or above `threshold`, in units of one unneeded
 * retention offer: each false alarm costs 1, each missed churner `costRatio`.
 */
export function getExpectedCost(scores: ArrayLike<number>, labels: readonly number[], threshold: number, costRatio: number): number {
  let cost = 0;
  for (let i = 0; i < labels.length; i++) {
    const flagged = scores[i]! >= threshold;
    if (flagged && labels[i] !== 1) cost += 1;
    else if (!flagged && labels[i] === 1) cost += costRatio;
  }
  return cost / labels.length;
}

/**
 * The threshold with the lowest expected cost (see {@link getExpectedCost}), halfway between two
 * neighbouring distinct scores; flagging everyone (0) and no one (above every score) are candidates too.
 * Ties go to the higher threshold (fewer offers).
 */
export function getMinimumCostThreshold(scores: ArrayLike<number>, labels: readonly number[], costRatio: number): { threshold: number; cost: number } {
  const positives = labels.filter((label) => label === 1).length;
  const cuts = getCuts(scores, labels);
  // Flagging no one misses every churner.
  let best = { threshold: ((cuts[0]?.threshold ?? 0) + 1) / 2, cost: (positives * costRatio) / labels.length };
  for (const { threshold, next, tp, fp } of cuts) {
    const cost = ((positives - tp) * costRatio + fp) / labels.length;
    if (cost < best.cost) best = { threshold: (threshold + (next ?? 0)) / 2, cost };
  }
  return best;
}

/** Mean and sample standard deviation. */
export function getMeanAndStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.length < 2 ? 0 : values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}
