import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../training/dataset.ts';
import { loadServedModel } from './model.ts';
import { SCORE_BUCKETS, createQualityMonitor, createQualityTally, createScoreHistogram, getRocAucOfCounts, getScoreBucket } from './quality.ts';

/** ROC AUC by its definition, over every churner-stayer pair: 1 when the churner scores higher, 1/2 on a tie. */
function getPairwiseRocAuc(scores: ArrayLike<number>, churned: readonly boolean[]): number {
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < churned.length; i++) (churned[i] ? positives : negatives).push(scores[i]!);
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (positives.length * negatives.length);
}

/** A reproducible stream of uniform numbers in [0, 1) (Park-Miller). */
function createRandom(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16_807) % 2_147_483_647) / 2_147_483_647;
}

/** Continuous scores: a logistic of a noisy signal that is higher for churners, about a quarter of them churned. */
function createContinuousScores(count: number, seed: number): { scores: Float64Array; churned: boolean[] } {
  const random = createRandom(seed);
  const scores = new Float64Array(count);
  const churned: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const outcome = random() < 0.27;
    churned.push(outcome);
    scores[i] = 1 / (1 + Math.exp(-(random() + random() + random() - 2.5 + (outcome ? 1.2 : 0))));
  }
  return { scores, churned };
}

const { instances, labels } = await readDataset('training/data/telco-churn.csv');
// 1.0.0, the single tree: few distinct probabilities, so its ROC AUC must come out exact.
const model = await loadServedModel({ registry: 'model-registry', name: 'telco-churn', version: '1.0.0' });
const treeScores = model.predict(instances);
const treeChurned = labels.map((label) => label === 1);

describe('getRocAucOfCounts and the score histogram', () => {
  it('gives the pairwise ROC AUC exactly while scores are few, ties included (the 1.0.0 tree, 6,000 customers)', () => {
    const histogram = createScoreHistogram();
    for (let i = 0; i < treeScores.length; i++) histogram.add(treeScores[i]!, treeChurned[i]!);
    expect(histogram.isExact()).toBe(true);
    expect(histogram.getRocAuc()).toBeCloseTo(getPairwiseRocAuc(treeScores, treeChurned), 12);
  });

  it('falls back to fine bins beyond its bound and stays within 0.001 of the pairwise ROC AUC', () => {
    const { scores, churned } = createContinuousScores(8000, 7);
    const histogram = createScoreHistogram({ maxExactScores: 1024 });
    for (let i = 0; i < scores.length; i++) histogram.add(scores[i]!, churned[i]!);
    expect(histogram.isExact()).toBe(false);
    const exact = getPairwiseRocAuc(scores, churned);
    expect(exact).toBeGreaterThan(0.7);
    expect(Math.abs(histogram.getRocAuc()! - exact)).toBeLessThan(0.001);
  });

  it('answers null unless both outcomes occur, and 1 or 0 for perfect or reversed ranking', () => {
    expect(getRocAucOfCounts([3, 0], [0, 0])).toBeNull();
    expect(getRocAucOfCounts([0, 0], [1, 2])).toBeNull();
    expect(getRocAucOfCounts([2, 0], [0, 3])).toBe(1);
    expect(getRocAucOfCounts([0, 2], [3, 0])).toBe(0);
    expect(getRocAucOfCounts([2], [3])).toBe(0.5);
  });

  it.each([
    ['the 1.0.0 tree on 6,000 customers', treeScores, treeChurned],
    ['continuous scores', ...Object.values(createContinuousScores(8000, 11))],
  ] as [string, Float64Array, boolean[]][])(`keeps ROC AUC from ${SCORE_BUCKETS} Prometheus buckets within 0.001 of exact: %s`, (_, scores, churned) => {
    const stayed = new Float64Array(SCORE_BUCKETS);
    const churners = new Float64Array(SCORE_BUCKETS);
    for (let i = 0; i < scores.length; i++) (churned[i] ? churners : stayed)[getScoreBucket(scores[i]!, SCORE_BUCKETS)]!++;
    expect(Math.abs(getRocAucOfCounts(stayed, churners)! - getPairwiseRocAuc(scores, churned))).toBeLessThan(0.001);
  });

  it('puts a probability of exactly 1 in the last bucket and bucket edges in the bucket they open', () => {
    expect(getScoreBucket(1, 100)).toBe(99);
    expect(getScoreBucket(0, 100)).toBe(0);
    expect(getScoreBucket(0.5, 100)).toBe(50);
    expect(getScoreBucket(0.4999, 100)).toBe(49);
  });
});

describe('createQualityTally', () => {
  it('matches accuracy, precision, recall, Brier and calibration counted by hand', () => {
    const scores = [0.9, 0.8, 0.6, 0.4, 0.3, 0.3, 0.1, 0.05];
    const churned = [true, false, true, true, false, false, false, true];
    const tally = createQualityTally(0.5);
    scores.forEach((score, i) => tally.add(score, churned[i]!));
    // Flagged (>= 0.5): 0.9 churned, 0.8 stayed, 0.6 churned -> TP 2, FP 1; not flagged: 0.4 and 0.05 churned -> FN 2, TN 3.
    const brier = scores.reduce((sum, score, i) => sum + (score - (churned[i] ? 1 : 0)) ** 2, 0) / 8;
    expect(tally.getMetrics()).toEqual({
      n: 8,
      churned: 4,
      rocAuc: getPairwiseRocAuc(scores, churned),
      accuracy: 5 / 8,
      precision: 2 / 3,
      recall: 2 / 4,
      brier: expect.closeTo(brier, 12),
      meanProbability: expect.closeTo(scores.reduce((a, b) => a + b, 0) / 8, 12),
      churnRate: 0.5,
    });
  });

  it('answers null for figures without a denominator, never NaN', () => {
    const tally = createQualityTally(0.5);
    expect(tally.getMetrics()).toEqual({ n: 0, churned: 0, rocAuc: null, accuracy: null, precision: null, recall: null, brier: null, meanProbability: null, churnRate: null });
    tally.add(0.2, false);
    expect(tally.getMetrics()).toMatchObject({ n: 1, rocAuc: null, accuracy: 1, precision: null, recall: null });
  });
});

describe('createQualityMonitor', () => {
  it('reports live figures beside the model card on /health and the same counts to Prometheus at scrape time', async () => {
    const registry = new Registry();
    const monitor = createQualityMonitor({ registry });
    monitor.setModel(model);
    const probabilities = Float64Array.from([0.61, 0.2, 0.005, 1]);
    monitor.record(probabilities, [true, true, false, false]);
    const health = monitor.getHealth();
    expect(health.observations).toBe(4);
    expect(health.rocAuc).toEqual({ live: 0.5, expected: model.manifest.metrics.test.rocAuc });
    expect(health.accuracy.expected).toBe(model.manifest.metrics.test.accuracy);
    // Threshold 0.3389: 0.61 churned (TP), 0.2 churned (FN), 0.005 stayed (TN), 1 stayed (FP).
    expect(health.accuracy.live).toBe(0.5);
    expect(health.calibration.trainingBaseRate).toBe(model.manifest.metrics.trainingBaseRate);

    const text = await registry.metrics();
    const sample = (line: string) => text.split('\n').find((candidate) => candidate.startsWith(`${line} `))?.split(' ')[1];
    expect(sample('churn_feedback_total{version="1.0.0",outcome="churn",bucket="0.61"}')).toBe('1');
    expect(sample('churn_feedback_total{version="1.0.0",outcome="no_churn",bucket="0.99"}')).toBe('1');
    expect(sample('churn_feedback_total{version="1.0.0",outcome="no_churn",bucket="0.50"}')).toBe('0');
    // Stayers below the 0.61 bucket: the one at 0.005.
    expect(sample('churn_feedback_below_total{version="1.0.0",outcome="no_churn",bucket="0.61"}')).toBe('1');
    expect(sample('churn_feedback_predicted_total{version="1.0.0",outcome="no_churn",predicted="churn"}')).toBe('1');
    expect(sample('churn_feedback_predicted_total{version="1.0.0",outcome="churn",predicted="no_churn"}')).toBe('1');
    expect(Number(sample('churn_feedback_squared_error_total{version="1.0.0",outcome="no_churn"}'))).toBeCloseTo(0.005 ** 2 + 1, 12);
    expect(Number(sample('churn_feedback_probability_total{version="1.0.0",outcome="churn"}'))).toBeCloseTo(0.81, 12);
    expect(sample('churn_model_expected_metric{version="1.0.0",metric="roc_auc"}')).toBe(String(model.manifest.metrics.test.rocAuc));
    expect(text.match(/^churn_feedback_total\{/gm)).toHaveLength(2 * SCORE_BUCKETS);
  });
});
