import { describe, expect, it } from 'vitest';
import { CALIBRATION_FORMAT, calibrationSchema, createCalibrator, findCalibrationProblem, getLogit, getSigmoid, type Calibration } from './calibration.ts';

const format = CALIBRATION_FORMAT;

describe('calibrations', () => {
  it('clip keeps a probability as it is, except that 0 and 1 become epsilon and 1 - epsilon', () => {
    const calibrate = createCalibrator({ format, method: 'clip', epsilon: 0.001 });
    expect([0, 0.0005, 0.25, 0.9995, 1].map(calibrate)).toEqual([0.001, 0.001, 0.25, 0.999, 0.999]);
  });

  it('Platt scaling answers sigmoid(slope × logit(p) + intercept), and a finite value for p = 0 and 1', () => {
    const calibrate = createCalibrator({ format, method: 'platt', epsilon: 0.001, slope: 1.5, intercept: -0.25 });
    expect(calibrate(0.3)).toBeCloseTo(1 / (1 + Math.exp(-(1.5 * Math.log(0.3 / 0.7) - 0.25))), 15);
    for (const p of [0, 1]) {
      expect(calibrate(p)).toBeGreaterThan(0);
      expect(calibrate(p)).toBeLessThan(1);
    }
    // sigmoid(1.5 × logit(0.001) − 0.25) is about 2.5e-5, under the floor.
    expect(getSigmoid(1.5 * getLogit(0.001) - 0.25)).toBeLessThan(0.001);
    expect(calibrate(0)).toBe(0.001);
    const gentle = createCalibrator({ format, method: 'platt', epsilon: 0.001, slope: 0.5, intercept: 0 });
    expect(gentle(0)).toBeCloseTo(getSigmoid(0.5 * getLogit(0.001)), 15);
  });

  it('isotonic interpolates between its points, is flat beyond them, and stays inside [epsilon, 1 - epsilon]', () => {
    const calibrate = createCalibrator({ format, method: 'isotonic', epsilon: 0.01, scores: [0.1, 0.3, 0.8], probabilities: [0, 0.2, 1] });
    expect(calibrate(0)).toBe(0.01);
    expect(calibrate(0.1)).toBe(0.01);
    expect(calibrate(0.2)).toBeCloseTo(0.1, 15);
    expect(calibrate(0.3)).toBeCloseTo(0.2, 15);
    expect(calibrate(0.55)).toBeCloseTo(0.6, 15);
    expect(calibrate(0.8)).toBe(0.99);
    expect(calibrate(1)).toBe(0.99);
    const single = createCalibrator({ format, method: 'isotonic', epsilon: 0.01, scores: [0.4], probabilities: [0.3] });
    expect([0, 0.4, 1].map(single)).toEqual([0.3, 0.3, 0.3]);
  });

  it('is never decreasing in the raw probability', () => {
    const calibrations: Calibration[] = [
      { format, method: 'clip', epsilon: 0.001 },
      { format, method: 'platt', epsilon: 0.001, slope: 0.8, intercept: 0.1 },
      { format, method: 'isotonic', epsilon: 0.001, scores: [0.05, 0.2, 0.21, 0.6], probabilities: [0.02, 0.1, 0.1, 0.7] },
    ];
    for (const calibration of calibrations) {
      const calibrate = createCalibrator(calibration);
      let previous = -Infinity;
      for (let p = 0; p <= 1; p += 1 / 1024) {
        expect(calibrate(p)).toBeGreaterThanOrEqual(previous);
        previous = calibrate(p);
      }
    }
  });

  it('refuses files that are not a calibration it knows, and isotonic points that do not line up', () => {
    expect(calibrationSchema.safeParse({ format, method: 'clip', epsilon: 0 }).success).toBe(false);
    expect(calibrationSchema.safeParse({ format: 'calibration/2', method: 'clip', epsilon: 0.001 }).success).toBe(false);
    expect(calibrationSchema.safeParse({ format, method: 'beta', epsilon: 0.001 }).success).toBe(false);
    const isotonic = { format, method: 'isotonic', epsilon: 0.001 } as const;
    expect(findCalibrationProblem({ ...isotonic, scores: [0.1, 0.2], probabilities: [0.1] })).toBe('has 2 scores but 1 probabilities');
    expect(findCalibrationProblem({ ...isotonic, scores: [0.2, 0.2], probabilities: [0.1, 0.2] })).toBe('scores are not strictly ascending at 1');
    expect(findCalibrationProblem({ ...isotonic, scores: [0.1, 0.2], probabilities: [0.3, 0.2] })).toBe('probabilities decrease at 1');
    expect(findCalibrationProblem({ ...isotonic, scores: [0.1, 0.2], probabilities: [0.2, 0.3] })).toBeUndefined();
  });
});
