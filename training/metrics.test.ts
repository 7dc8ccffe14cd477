import { describe, expect, it } from 'vitest';
import {
  getBestF1Threshold,
  getBrierScore,
  getClassificationMetrics,
  getExpectedCalibrationError,
  getExpectedCost,
  getLogLoss,
  getMinimumCostThreshold,
  getReliabilityBins,
  getRocAuc,
  getRocCurve,
} from './metrics.ts';
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

  it('computes log loss, infinite as soon as an outcome got probability 0', () => {
    expect(getLogLoss([0.8, 0.4], [1, 0])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 15);
    expect(getLogLoss([0, 0.5], [1, 0])).toBe(Infinity);
    expect(getLogLoss([1, 0.5], [0, 0])).toBe(Infinity);
    expect(getBrierScore([0.8, 0.4], [1, 0])).toBeCloseTo((0.04 + 0.16) / 2, 15);
  });

  it('bins probabilities into ten equal-width bins, 1 in the last, and weighs the gap of each bin for ECE', () => {
    const scores = [0.05, 0.05, 0.15, 0.95, 1];
    const labels = [0, 1, 0, 1, 1];
    const bins = getReliabilityBins(scores, labels);
    expect(bins).toHaveLength(10);
    expect(bins.map((bin) => bin.count)).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(bins[0]).toMatchObject({ from: 0, to: 0.1, meanProbability: 0.05, observedRate: 0.5 });
    expect(bins[9]!.meanProbability).toBeCloseTo(0.975, 15);
    expect(getExpectedCalibrationError(scores, labels)).toBeCloseTo((2 / 5) * 0.45 + (1 / 5) * 0.15 + (2 / 5) * 0.025, 15);
    expect(getClassificationMetrics(scores, labels, 0.5).ece).toBe(getExpectedCalibrationError(scores, labels));
  });

  it('prices a threshold: 1 per unneeded offer, the cost ratio per missed churner, per customer', () => {
    const scores = [0.9, 0.6, 0.4, 0.2, 0.1];
    const labels = [1, 0, 1, 0, 0];
    expect(getExpectedCost(scores, labels, 0.5, 5)).toBeCloseTo((1 + 5) / 5, 15);
    expect(getExpectedCost(scores, labels, -Infinity, 5)).toBeCloseTo(3 / 5, 15);
    expect(getExpectedCost(scores, labels, Infinity, 5)).toBeCloseTo(10 / 5, 15);
  });

  it('finds the cheapest threshold among every cut, halfway between scores, the higher one on a tie', () => {
    const random = createRandom(9);
    const scores = Array.from({ length: 400 }, () => Math.round(random() * 50) / 50);
    const labels = scores.map((score) => (random() < score * 0.8 ? 1 : 0));
    for (const ratio of [0.5, 2, 5, 20]) {
      const { threshold, cost } = getMinimumCostThreshold(scores, labels, ratio);
      expect(cost).toBeCloseTo(getExpectedCost(scores, labels, threshold, ratio), 12);
      expect(scores).not.toContain(threshold);
      const cuts = [...new Set(scores), 1.5];
      const cheapest = Math.min(...cuts.map((cut) => getExpectedCost(scores, labels, cut, ratio)));
      expect(cost).toBeCloseTo(cheapest, 12);
    }
    // Both cuts cost 1/3; the higher threshold (fewer offers) wins.
    expect(getMinimumCostThreshold([0.8, 0.2, 0.1], [0, 1, 0], 1).threshold).toBeCloseTo(0.9, 15);
  });
});

