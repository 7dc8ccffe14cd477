import { describe, expect, it } from 'vitest';
import { getBestF1Threshold, getClassificationMetrics, getRocAuc, getRocCurve } from './metrics.ts';
import { createRandom } from './sampling.ts';

function pairwiseAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((positive, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((negative, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += positive > negative ? 1 : positive === negative ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('classification metrics', () => {
  it('computes ROC AUC as the share of positive-negative pairs ranked right, ties counting half', () => {
    const random = createRandom(3);
    const scores = Array.from({ length: 300 }, () => Math.round(random() * 20) / 20);
    const labels = scores.map((score) => (random() < score ? 1 : 0));
    expect(getRocAuc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
    expect(getRocAuc([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1])).toBe(1);
    expect(getRocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  });

  it('traces the ROC curve from (0,0) to (1,1) through one point per distinct score', () => {
    const curve = getRocCurve([0.9, 0.8, 0.8, 0.1], [1, 0, 1, 0]);
    expect(curve.map((p) => [p.falsePositiveRate, p.truePositiveRate])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
  });

  it('counts the confusion matrix at the threshold, predicting churn at or above it', () => {
    const metrics = getClassificationMetrics([0.9, 0.6, 0.4, 0.2, 0.6], [1, 0, 1, 0, 1], 0.6);
    expect(metrics.confusion).toEqual({ tp: 2, fp: 1, tn: 1, fn: 1 });
    expect(metrics.precision).toBeCloseTo(2 / 3);
    expect(metrics.recall).toBeCloseTo(2 / 3);
    expect(metrics.accuracy).toBeCloseTo(3 / 5);
    expect(metrics.brier).toBeCloseTo((0.01 + 0.36 + 0.36 + 0.04 + 0.16) / 5);
  });

  it('places the best-F1 threshold between two scores so it selects exactly the best cut', () => {
    const scores = [0.9, 0.7, 0.6, 0.3, 0.2];
    const labels = [1, 1, 0, 1, 0];
    const { threshold, f1 } = getBestF1Threshold(scores, labels);
    expect(threshold).toBeCloseTo(0.25);
    expect(f1).toBeCloseTo(getClassificationMetrics(scores, labels, threshold).f1);
    for (const other of [0.1, 0.5, 0.65, 0.8, 0.95]) expect(getClassificationMetrics(scores, labels, other).f1).toBeLessThanOrEqual(f1);
  });
});
