import { describe, expect, it } from 'vitest';
import { chooseIndices, createRandom, createStratifiedFolds, deriveSeed, drawBootstrap, splitStratified } from './sampling.ts';

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

  it('derives distinct, repeatable seeds for each fold and tree', () => {
    const seeds = Array.from({ length: 6 }, (_, fold) => Array.from({ length: 50 }, (_, tree) => deriveSeed(20260101, fold, tree))).flat();
    expect(new Set(seeds).size).toBe(seeds.length);
    expect(deriveSeed(20260101, 3, 7)).toBe(seeds[3 * 50 + 7]);
    expect(deriveSeed(20260101, 3)).not.toBe(deriveSeed(20260102, 3));
    expect(seeds.every((seed) => Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)).toBe(true);
  });

  it('draws a bootstrap sample of the given size with replacement, leaving about a third of the rows out', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => i * 2);
    const sample = drawBootstrap(rows, rows.length, createRandom(4));
    expect(sample).toHaveLength(3000);
    expect(sample.every((row) => rows.includes(row))).toBe(true);
    const left = 1 - new Set(sample).size / rows.length;
    expect(left).toBeGreaterThan(0.34);
    expect(left).toBeLessThan(0.4);
    expect(drawBootstrap(rows, 10, createRandom(4))).toEqual(sample.slice(0, 10));
  });

  it('chooses distinct indices in increasing order', () => {
    const chosen = chooseIndices(40, 20, createRandom(6));
    expect(chosen).toHaveLength(20);
    expect(new Set(chosen).size).toBe(20);
    expect([...chosen].sort((a, b) => a - b)).toEqual(chosen);
    expect(chosen.every((index) => index >= 0 && index < 40)).toBe(true);
  });
});
