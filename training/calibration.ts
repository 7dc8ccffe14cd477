import {
  CALIBRATION_FORMAT,
  clampProbability,
  createCalibrator,
  getLogit,
  getSigmoid,
  type Calibration,
  type IsotonicCalibration,
  type PlattCalibration,
} from '../lib/model/calibration.ts';
import { getBrierScore, getExpectedCalibrationError, getLogLoss } from './metrics.ts';

/**
 * The least and most a served probability may be: 1 in 1,000. A customer is never certain to stay or to
 * leave, and one churner at probability 0 would make log loss infinite.
 */
export const PROBABILITY_FLOOR = 0.001;

/** A more flexible calibration must lower the cross-fitted log loss by more than this to replace a simpler one. */
export const CALIBRATION_LOG_LOSS_MARGIN = 0.001;

/** The calibration methods tried, simplest first. */
export const CALIBRATION_METHODS = ['clip', 'platt', 'isotonic'] as const;
/** A calibration method. */
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** The rule that picks the calibration; stated before any score is computed. */
export const CALIBRATION_RULE = `fitted on the chosen candidate's out-of-fold probabilities; of ${CALIBRATION_METHODS.join(', ')} (simplest first), the one with the lowest cross-fitted log loss (each fold's probabilities calibrated by a fit on the other folds'), a more flexible method replacing a simpler one only if it lowers that by more than ${CALIBRATION_LOG_LOSS_MARGIN}; every served probability lies in [${PROBABILITY_FLOOR}, ${1 - PROBABILITY_FLOOR}]`;

/**
 * Platt scaling on the log-odds, fitted by Newton's method on the log loss with Platt's smoothed
 * targets ((positives + 1) / (positives + 2) and 1 / (negatives + 2)), which keep a separable fold from
 * driving the slope to infinity.
 */
export function fitPlatt(scores: ArrayLike<number>, labels: readonly number[], epsilon = PROBABILITY_FLOOR): PlattCalibration {
  const n = labels.length;
  const positives = labels.filter((label) => label === 1).length;
  const high = (positives + 1) / (positives + 2);
  const low = 1 / (n - positives + 2);
  const x = Float64Array.from({ length: n }, (_, i) => getLogit(clampProbability(scores[i]!, epsilon)));
  const t = Float64Array.from(labels, (label) => (label === 1 ? high : low));
  let slope = 1;
  let intercept = 0;
  for (let iteration = 0; iteration < 100; iteration++) {
    // Gradient and Hessian of the log loss in (slope, intercept).
    let gSlope = 0;
    let gIntercept = 0;
    let hSS = 0;
    let hSI = 0;
    let hII = 0;
    for (let i = 0; i < n; i++) {
      const p = getSigmoid(slope * x[i]! + intercept);
      const d = p - t[i]!;
      const w = Math.max(p * (1 - p), 1e-12);
      gSlope += d * x[i]!;
      gIntercept += d;
      hSS += w * x[i]! * x[i]!;
      hSI += w * x[i]!;
      hII += w;
    }
    const determinant = hSS * hII - hSI * hSI;
    if (!(determinant > 0)) break;
    const stepSlope = (hII * gSlope - hSI * gIntercept) / determinant;
    const stepIntercept = (hSS * gIntercept - hSI * gSlope) / determinant;
    slope -= stepSlope;
    intercept -= stepIntercept;
    if (Math.abs(stepSlope) < 1e-12 && Math.abs(stepIntercept) < 1e-12) break;
  }
  return { format: CALIBRATION_FORMAT, method: 'platt', epsilon, slope, intercept };
}

/**
 * Isotonic regression by pool-adjacent-violators: rows sorted by score (equal scores pooled first), then
 * neighbouring blocks merged while a block's positive share is below its predecessor's. Each block
 * becomes one point, its mean score and its positive share.
 */
export function fitIsotonic(scores: ArrayLike<number>, labels: readonly number[], epsilon = PROBABILITY_FLOOR): IsotonicCalibration {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const blocks: { sum: number; positives: number; count: number }[] = [];
  for (let i = 0; i < order.length; ) {
    const score = scores[order[i]!]!;
    const block = { sum: 0, positives: 0, count: 0 };
    for (; i < order.length && scores[order[i]!] === score; i++) {
      block.sum += score;
      block.positives += labels[order[i]!] === 1 ? 1 : 0;
      block.count++;
    }
    blocks.push(block);
    while (blocks.length > 1) {
      const last = blocks.at(-1)!;
      const previous = blocks.at(-2)!;
      if (previous.positives / previous.count < last.positives / last.count) break;
      blocks.pop();
      previous.sum += last.sum;
      previous.positives += last.positives;
      previous.count += last.count;
    }
  }
  return {
    format: CALIBRATION_FORMAT,
    method: 'isotonic',
    epsilon,
    scores: blocks.map((block) => block.sum / block.count),
    probabilities: blocks.map((block) => block.positives / block.count),
  };
}

/** Fit one calibration method on probabilities and their outcomes. */
export function fitCalibration(method: CalibrationMethod, scores: ArrayLike<number>, labels: readonly number[], epsilon = PROBABILITY_FLOOR): Calibration {
  switch (method) {
    case 'clip':
      return { format: CALIBRATION_FORMAT, method: 'clip', epsilon };
    case 'platt':
      return fitPlatt(scores, labels, epsilon);
    case 'isotonic':
      return fitIsotonic(scores, labels, epsilon);
  }
}

/** How one calibration method scored when each fold was calibrated by a fit on the other folds. */
export interface CalibrationScore {
  method: CalibrationMethod;
  logLoss: number;
  brier: number;
  ece: number;
}

/** The chosen calibration (fitted on every out-of-fold probability), and the cross-fitted scores of all methods. */
export interface CalibrationChoice {
  calibration: Calibration;
  scores: CalibrationScore[];
  /** The out-of-fold probabilities calibrated by a fit on the other folds: what the chosen calibration scored on. */
  crossFitted: Float64Array;
}

/**
 * Choose and fit a calibration by {@link CALIBRATION_RULE}: each method is cross-fitted over the folds of
 * the out-of-fold probabilities (`folds[i]` names the fold of row i), and the winner is refitted on all.
 */
export function chooseCalibration(scores: ArrayLike<number>, labels: readonly number[], folds: readonly number[], epsilon = PROBABILITY_FLOOR): CalibrationChoice {
  const foldIds = [...new Set(folds)].sort((a, b) => a - b);
  const crossFit = (method: CalibrationMethod): Float64Array => {
    const calibrated = new Float64Array(labels.length);
    for (const fold of foldIds) {
      const outside = labels.flatMap((_, i) => (folds[i] === fold ? [] : [i]));
      const calibrate = createCalibrator(
        fitCalibration(
          method,
          outside.map((i) => scores[i]!),
          outside.map((i) => labels[i]!),
          epsilon,
        ),
      );
      for (let i = 0; i < labels.length; i++) if (folds[i] === fold) calibrated[i] = calibrate(scores[i]!);
    }
    return calibrated;
  };
  const results = CALIBRATION_METHODS.map((method) => {
    const calibrated = crossFit(method);
    return { method, calibrated, logLoss: getLogLoss(calibrated, labels), brier: getBrierScore(calibrated, labels), ece: getExpectedCalibrationError(calibrated, labels) };
  });
  let chosen = results[0]!;
  for (const result of results.slice(1)) if (result.logLoss < chosen.logLoss - CALIBRATION_LOG_LOSS_MARGIN) chosen = result;
  return {
    calibration: fitCalibration(chosen.method, scores, labels, epsilon),
    scores: results.map(({ method, logLoss, brier, ece }) => ({ method, logLoss, brier, ece })),
    crossFitted: chosen.calibrated,
  };
}
