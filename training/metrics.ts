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

/** The ROC curve, one point per distinct score from the highest down, starting at (0, 0). */
export function getRocCurve(scores: ArrayLike<number>, labels: readonly number[]): RocPoint[] {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const positives = labels.filter((label) => label === 1).length;
  const negatives = labels.length - positives;
  const points: RocPoint[] = [{ threshold: Infinity, falsePositiveRate: 0, truePositiveRate: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]!] === 1) tp++;
    else fp++;
    const score = scores[order[i]!]!;
    if (i + 1 === order.length || scores[order[i + 1]!] !== score) {
      points.push({ threshold: score, falsePositiveRate: fp / negatives, truePositiveRate: tp / positives });
    }
  }
  return points;
}

/** Confusion counts, precision, recall, F1, accuracy, ROC AUC and Brier score at a threshold. */
export function getClassificationMetrics(scores: ArrayLike<number>, labels: readonly number[], threshold: number): ClassificationMetrics {
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
    confusion: { tp, fp, tn, fn },
  };
}

/**
 * The threshold that maximises F1 of the positive class: halfway between two neighbouring distinct
 * scores, so it does not sit exactly on a score the model produces.
 */
export function getBestF1Threshold(scores: ArrayLike<number>, labels: readonly number[]): { threshold: number; f1: number } {
  const curve = getRocCurve(scores, labels);
  const positives = labels.filter((label) => label === 1).length;
  const negatives = labels.length - positives;
  let best = { threshold: 0.5, f1: -1 };
  for (let i = 1; i < curve.length; i++) {
    const point = curve[i]!;
    const tp = point.truePositiveRate * positives;
    const fp = point.falsePositiveRate * negatives;
    const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + (positives - tp));
    if (f1 > best.f1) {
      const lower = curve[i + 1]?.threshold ?? 0;
      best = { threshold: (point.threshold + lower) / 2, f1 };
    }
  }
  return best;
}

/** Mean and sample standard deviation. */
export function getMeanAndStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.length < 2 ? 0 : values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}
