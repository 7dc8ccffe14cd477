import { describe, expect, it } from 'vitest';
import { formatPredictions } from './predict.ts';

describe('formatPredictions', () => {
  it('writes the same bytes as JSON.stringify of the answer object', () => {
    const model = { name: 'telco-"churn"', version: '1.1.0', threshold: 0.193 };
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const edges = [0.001, 0.999, 0.193, 0.19299999999999998, 1e-7, 5e-324, 0, 1, 1 / 3, Number.NaN, Number.POSITIVE_INFINITY];
    const probabilities = Float64Array.from([...edges, ...Array.from({ length: 2000 }, random)]);
    const expected = JSON.stringify({
      model: { name: model.name, version: model.version },
      predictions: Array.from(probabilities, (probability) => ({ churn: probability >= model.threshold, probability })),
    });
    expect(formatPredictions(model, probabilities)).toBe(expected);
    expect(formatPredictions(model, new Float64Array(0))).toBe(JSON.stringify({ model: { name: model.name, version: model.version }, predictions: [] }));
  });
});
