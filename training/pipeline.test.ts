import { describe, expect, it } from 'vitest';
import { selectCandidate } from './pipeline.ts';

const candidate = (id: string, rocAucMean: number, rocAucStd: number, brier: number) => ({ id, rocAucMean, rocAucStd, brier });

describe('the selection rule', () => {
  it('takes the best mean CV ROC AUC when no other candidate is within one standard error of it', () => {
    const results = [candidate('a', 0.83, 0.01, 0.13), candidate('b', 0.85, 0.01, 0.14)];
    // One standard error: 0.01 / sqrt(5) = 0.0045.
    expect(selectCandidate(results, 5).id).toBe('b');
  });

  it('breaks a near-tie (within one standard error of the best) by the lower out-of-fold Brier score', () => {
    const results = [candidate('a', 0.846, 0.01, 0.135), candidate('b', 0.85, 0.01, 0.137), candidate('c', 0.844, 0.01, 0.12)];
    expect(selectCandidate(results, 5).id).toBe('a');
  });

  it('gives an exact tie to the candidate listed first', () => {
    const results = [candidate('simple', 0.85, 0.01, 0.13), candidate('complex', 0.85, 0.01, 0.13)];
    expect(selectCandidate(results, 5).id).toBe('simple');
  });
});
