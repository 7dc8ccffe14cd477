import { describe, expect, it } from 'vitest';
import { createCalibrator, getLogit, getSigmoid } from '../lib/model/calibration.ts';
import { PROBABILITY_FLOOR, chooseCalibration, fitIsotonic, fitPlatt } from './calibration.ts';
import { getLogLoss } from './metrics.ts';
import { createRandom } from './sampling.ts';

/** Outcomes drawn from a known truth: P(y = 1 | score) = sigmoid(slope × logit(score) + intercept). */
function simulate(count: number, slope: number, intercept: number, seed: number) {
  const random = createRandom(seed);
  const scores = Array.from({ length: count }, () => 0.02 + 0.96 * random());
  const labels = scores.map((score) => (random() < getSigmoid(slope * getLogit(score) + intercept) ? 1 : 0));
  const folds = scores.map((_, i) => i % 5);
  return { scores, labels, folds };
}

describe('fitting a calibration', () => {
  it('Platt scaling recovers the slope and intercept of the log-odds that generated the outcomes', () => {
    const { scores, labels } = simulate(20000, 0.6, -0.4, 1);
    const fitted = fitPlatt(scores, labels);
    expect(fitted.slope).toBeCloseTo(0.6, 1);
    expect(fitted.intercept).toBeCloseTo(-0.4, 1);
    // Newton's method stopped at the minimum: the smoothed-target log loss has zero gradient there.
    const positives = labels.filter((label) => label === 1).length;
    const targets = labels.map((label) => (label === 1 ? (positives + 1) / (positives + 2) : 1 / (labels.length - positives + 2)));
    let gradient = 0;
    scores.forEach((score, i) => (gradient += getSigmoid(fitted.slope * getLogit(score) + fitted.intercept) - targets[i]!));
    expect(Math.abs(gradient)).toBeLessThan(1e-6);
  });

  it('Platt scaling stays finite on outcomes a threshold separates perfectly, and on scores of exactly 0 and 1', () => {
    const fitted = fitPlatt([0, 0.1, 0.2, 0.8, 0.9, 1], [0, 0, 0, 1, 1, 1]);
    expect(Number.isFinite(fitted.slope) && Number.isFinite(fitted.intercept)).toBe(true);
    const calibrate = createCalibrator(fitted);
    expect(calibrate(0)).toBeGreaterThanOrEqual(PROBABILITY_FLOOR);
    expect(calibrate(1)).toBeLessThanOrEqual(1 - PROBABILITY_FLOOR);
  });

  it('isotonic regression pools adjacent violators into a non-decreasing step per block', () => {
    const fitted = fitIsotonic([0.1, 0.2, 0.3, 0.4, 0.5, 0.5], [0, 1, 0, 0, 1, 1]);
    // 0.1 -> 0; then 0.2 (1), 0.3 (0), 0.4 (0) pool to 1/3; the two 0.5 rows (1, 1) stay a block.
    expect(fitted.scores.map((s) => Number(s.toFixed(10)))).toEqual([0.1, 0.3, 0.5]);
    expect(fitted.probabilities).toEqual([0, 1 / 3, 1]);
  });

  it('keeps already calibrated probabilities as they are (clip), because a fitted method does not beat them by the margin', () => {
    const { scores, labels, folds } = simulate(6000, 1, 0, 2);
    const choice = chooseCalibration(scores, labels, folds);
    expect(choice.calibration.method).toBe('clip');
    expect(choice.scores.map((score) => score.method)).toEqual(['clip', 'platt', 'isotonic']);
  });

  it('chooses a fitted method for over-confident probabilities, and scores it on folds it was not fitted on', () => {
    const { scores, labels, folds } = simulate(6000, 0.4, 0.3, 3);
    const choice = chooseCalibration(scores, labels, folds);
    expect(choice.calibration.method).not.toBe('clip');
    const clip = choice.scores.find((score) => score.method === 'clip')!;
    const chosen = choice.scores.find((score) => score.method === choice.calibration.method)!;
    expect(chosen.logLoss).toBeLessThan(clip.logLoss - 0.001);
    expect(getLogLoss(choice.crossFitted, labels)).toBe(chosen.logLoss);
    // Cross-fitted, not fitted on all: the calibration fitted on all rows gives other values.
    const calibrate = createCalibrator(choice.calibration);
    expect(scores.some((score, i) => calibrate(score) !== choice.crossFitted[i])).toBe(true);
  });
});
