import { describe, expect, it } from 'vitest';
import { createRandom, createStratifiedFolds, splitStratified } from './sampling.ts';

const labels = Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? 1 : 0));
const share = (indices: number[]) => indices.filter((i) => labels[i] === 1).length / indices.length;

describe('sampling', () => {
  it('is fully determined by the seed', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
  });

  it('keeps the class share in the train and test splits and never puts a row in both', () => {
    const { train, test } = splitStratified(labels, 0.2, createRandom(1));
    expect(test.length).toBe(200);
    expect(train.length).toBe(800);
    expect(share(test)).toBe(0.25);
    expect(share(train)).toBe(0.25);
    expect(new Set([...train, ...test]).size).toBe(1000);
  });

  it('deals stratified folds that partition the given rows', () => {
    const { train } = splitStratified(labels, 0.2, createRandom(1));
    const folds = createStratifiedFolds(labels, train, 5, createRandom(2));
    expect(folds.flat().sort((a, b) => a - b)).toEqual(train);
    for (const fold of folds) {
      expect(fold.length).toBe(160);
      expect(share(fold)).toBe(0.25);
    }
  });
});
