import { z } from 'zod';

/** Identifier of the calibration layout; a reader refuses any other. */
export const CALIBRATION_FORMAT = 'calibration/1';
/** The file of a version that maps the model's raw probability to the served one (churn-model/2 and later). */
export const CALIBRATION_FILE = 'calibration.json';

/** Raw probabilities kept as they are, only held inside `[epsilon, 1 - epsilon]`. */
export interface ClipCalibration {
  format: typeof CALIBRATION_FORMAT;
  method: 'clip';
  epsilon: number;
}

/** Platt scaling on the log-odds: `sigmoid(slope * logit(p) + intercept)`, with `p` first held inside `[epsilon, 1 - epsilon]`. */
export interface PlattCalibration {
  format: typeof CALIBRATION_FORMAT;
  method: 'platt';
  epsilon: number;
  slope: number;
  intercept: number;
}

/**
 * Isotonic regression: a non-decreasing step function fitted by pool-adjacent-violators, served as the
 * straight lines between the centres of its steps (`scores` ascending, `probabilities` non-decreasing),
 * flat beyond the first and last centre.
 */
export interface IsotonicCalibration {
  format: typeof CALIBRATION_FORMAT;
  method: 'isotonic';
  epsilon: number;
  scores: number[];
  probabilities: number[];
}

/** How a version turns its model's raw probability into the probability it serves; never exactly 0 or 1. */
export type Calibration = ClipCalibration | PlattCalibration | IsotonicCalibration;

/** Maps a raw probability to a calibrated one. */
export type Calibrator = (probability: number) => number;

const epsilonSchema = z.number().gt(0).lt(0.5);
/** The zod schema of a calibration file. */
export const calibrationSchema = z.discriminatedUnion('method', [
  z.object({ format: z.literal(CALIBRATION_FORMAT), method: z.literal('clip'), epsilon: epsilonSchema }),
  z.object({ format: z.literal(CALIBRATION_FORMAT), method: z.literal('platt'), epsilon: epsilonSchema, slope: z.number(), intercept: z.number() }),
  z.object({
    format: z.literal(CALIBRATION_FORMAT),
    method: z.literal('isotonic'),
    epsilon: epsilonSchema,
    scores: z.array(z.number()).min(1),
    probabilities: z.array(z.number().min(0).max(1)).min(1),
  }),
]);

/** Check what the schema cannot: isotonic points that line up and ascend. Returns the first problem, or undefined. */
export function findCalibrationProblem(calibration: Calibration): string | undefined {
  if (calibration.method !== 'isotonic') return undefined;
  const { scores, probabilities } = calibration;
  if (scores.length !== probabilities.length) return `has ${scores.length} scores but ${probabilities.length} probabilities`;
  for (let i = 1; i < scores.length; i++) {
    if (!(scores[i]! > scores[i - 1]!)) return `scores are not strictly ascending at ${i}`;
    if (probabilities[i]! < probabilities[i - 1]!) return `probabilities decrease at ${i}`;
  }
  return undefined;
}

/** Hold `p` inside `[epsilon, 1 - epsilon]`. */
export function clampProbability(p: number, epsilon: number): number {
  return p < epsilon ? epsilon : p > 1 - epsilon ? 1 - epsilon : p;
}

/** Natural log-odds of a probability. */
export function getLogit(p: number): number {
  return Math.log(p / (1 - p));
}

/** Logistic function, the inverse of {@link getLogit}. */
export function getSigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Compile a calibration into a function; its answers always lie inside `[epsilon, 1 - epsilon]`. */
export function createCalibrator(calibration: Calibration): Calibrator {
  const { epsilon } = calibration;
  switch (calibration.method) {
    case 'clip':
      return (p) => clampProbability(p, epsilon);
    case 'platt': {
      const { slope, intercept } = calibration;
      return (p) => clampProbability(getSigmoid(slope * getLogit(clampProbability(p, epsilon)) + intercept), epsilon);
    }
    case 'isotonic': {
      const scores = Float64Array.from(calibration.scores);
      const probabilities = Float64Array.from(calibration.probabilities);
      const last = scores.length - 1;
      return (p) => {
        if (!(p > scores[0]!)) return clampProbability(probabilities[0]!, epsilon);
        if (p >= scores[last]!) return clampProbability(probabilities[last]!, epsilon);
        // Binary search for the segment [scores[low - 1], scores[low]) holding p.
        let low = 1;
        let high = last;
        while (low < high) {
          const middle = (low + high) >>> 1;
          if (scores[middle]! <= p) low = middle + 1;
          else high = middle;
        }
        const x0 = scores[low - 1]!;
        const y0 = probabilities[low - 1]!;
        const share = (p - x0) / (scores[low]! - x0);
        return clampProbability(y0 + share * (probabilities[low]! - y0), epsilon);
      };
    }
  }
}
