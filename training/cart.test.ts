import { DecisionTreeClassifier } from 'ml-cart';
import { describe, expect, it } from 'vitest';
import { encodeRows } from './pipeline.ts';
import { readDataset } from './dataset.ts';
import { createEncodingSpec } from '../lib/model/encoding.ts';
import { fitDecisionTree, growTree, pruneTree, toTreeParameters } from './cart.ts';
import { createRandom, drawBootstrap } from './sampling.ts';
import { createPredictor } from '../lib/model/predictor.ts';

const serialise = (rows: number[][], labels: number[], options: Parameters<typeof fitDecisionTree>[2]) =>
  JSON.stringify(fitDecisionTree(rows, labels, options).toJSON());

function expectIdenticalTrees(rows: number[][], labels: number[], options: Parameters<typeof fitDecisionTree>[2] = {}) {
  const fast = serialise(rows, labels, { ...options, splitSearch: 'fast' });
  const stock = serialise(rows, labels, { ...options, splitSearch: 'stock' });
  expect(fast).toBe(stock);
  return fast;
}

describe('fast split search', () => {
  it('grows the same trees as stock ml-cart on the churn data for every grid shape', async () => {
    const dataset = await readDataset('training/data/telco-churn.csv');
    const rows = encodeRows(createEncodingSpec(dataset.signature, { nullValues: { total_charges: 0 } }), dataset.signature, dataset.instances).slice(0, 700);
    const labels = dataset.labels.slice(0, 700);
    for (const settings of [
      { maxDepth: 3, minNumSamples: 3, gainThreshold: 0.01 },
      { maxDepth: 6, minNumSamples: 25, gainThreshold: 0 },
      { maxDepth: 8, minNumSamples: 3, gainThreshold: 0 },
      { maxDepth: 5, minNumSamples: 100, gainThreshold: 0.001 },
    ]) {
      const tree = expectIdenticalTrees(rows, labels, settings);
      expect(tree.length).toBeGreaterThan(500);
    }
  });

  it('grows the same trees as stock ml-cart on a bootstrap sample, where every row may repeat', async () => {
    const dataset = await readDataset('training/data/telco-churn.csv');
    const rows = encodeRows(createEncodingSpec(dataset.signature, { nullValues: { total_charges: 0 } }), dataset.signature, dataset.instances);
    const sample = drawBootstrap(
      Array.from({ length: 2000 }, (_, i) => i),
      600,
      createRandom(5),
    );
    expectIdenticalTrees(
      sample.map((i) => rows[i]!),
      sample.map((i) => dataset.labels[i]!),
      { maxDepth: 6, minNumSamples: 10, gainThreshold: 0 },
    );
  });

  it('grows the same trees on ties, near-equal floats, constant columns and three classes', () => {
    const random = createRandom(7);
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 300; i++) {
      const tie = Math.floor(random() * 4);
      const nearlyEqual = random() < 0.5 ? 1 : 1 + Number.EPSILON;
      const continuous = Math.round(random() * 1000) / 10;
      rows.push([tie, nearlyEqual, continuous, 5, random() < 0.1 ? 1e300 : -continuous]);
      labels.push((tie + (continuous > 50 ? 1 : 0) + (random() < 0.2 ? 1 : 0)) % 3);
    }
    expectIdenticalTrees(rows, labels, { maxDepth: 6, minNumSamples: 2, gainThreshold: 0 });
    expectIdenticalTrees(rows, labels);
  });

  it('hands NaN and negative zero to the stock search, and still grows the same tree', () => {
    // Count calls reaching ml-cart's own bestSplit while the fast search is installed.
    const prototype = Object.getPrototypeOf(
      DecisionTreeClassifier.load({ name: 'DTClassifier', options: {}, root: { distribution: [[1]] } }).root,
    ) as { bestSplit: (...args: unknown[]) => unknown };
    const stock = prototype.bestSplit;
    let stockCalls = 0;
    prototype.bestSplit = function (this: unknown, ...args: unknown[]) {
      stockCalls++;
      return stock.apply(this, args);
    };
    const rows = [[Number.NaN, 1], [2, -0], [3, 0], [4, 1], [5, 0], [6, 1]];
    const labels = [0, 1, 0, 1, 0, 1];
    try {
      const fast = serialise(rows, labels, { minNumSamples: 1, gainThreshold: 0 });
      expect(stockCalls).toBeGreaterThan(0);
      prototype.bestSplit = stock;
      expect(fast).toBe(serialise(rows, labels, { minNumSamples: 1, gainThreshold: 0, splitSearch: 'stock' }));
    } finally {
      prototype.bestSplit = stock;
    }
  });

  it('converts a fitted tree into parameters that answer the leaf distribution ml-cart reaches', () => {
    const random = createRandom(11);
    const rows = Array.from({ length: 400 }, () => [random() * 10, Math.floor(random() * 3), random()]);
    const labels = rows.map((row) => (row[0]! + row[1]! * 2 + (random() < 0.3 ? 5 : 0) > 7 ? 1 : 0));
    const classifier = fitDecisionTree(rows, labels, { maxDepth: 5, minNumSamples: 5, gainThreshold: 0 });
    const params = toTreeParameters(classifier, ['No', 'Yes'], 3);
    const predictor = createPredictor(params, 'Yes');
    const root = classifier.root as unknown as { classify(row: number[]): { getRow(index: number): number[] } };
    for (const row of rows) {
      const leaf = root.classify(row).getRow(0);
      expect(predictor.predictProbability(Float64Array.from(row), 0)).toBe(leaf[1] ?? 0);
    }
    expect(params.nodes.every((node) => !('distribution' in node) || node.distribution.length === 2)).toBe(true);
  });
});

describe('pruning a grown tree', () => {
  it('gives, for every stricter setting, exactly the tree ml-cart grows with that setting', async () => {
    const dataset = await readDataset('training/data/telco-churn.csv');
    const rows = encodeRows(createEncodingSpec(dataset.signature, { nullValues: { total_charges: 0 } }), dataset.signature, dataset.instances).slice(0, 1500);
    const labels = dataset.labels.slice(0, 1500);
    const grown = growTree(rows, labels, { maxDepth: 8, minNumSamples: 10, gainThreshold: 0 });
    for (const maxDepth of [1, 3, 5, 8]) {
      for (const minNumSamples of [10, 40, 200]) {
        for (const gainThreshold of [0, 0.001, 0.01]) {
          const settings = { maxDepth, minNumSamples, gainThreshold };
          expect(pruneTree(grown, settings, ['No', 'Yes'], 40), JSON.stringify(settings)).toEqual(toTreeParameters(fitDecisionTree(rows, labels, settings), ['No', 'Yes'], 40));
        }
      }
    }
  });

  it('counts at every node the rows of each class that reached it', () => {
    const rows = [[1], [2], [3], [4], [5], [6]];
    const labels = [0, 0, 0, 1, 1, 0];
    const grown = growTree(rows, labels, { maxDepth: 1, minNumSamples: 1, gainThreshold: 0 });
    expect(grown.nodes.map((node) => node.counts)).toEqual([[4, 2], [3, 0], [1, 2]]);
    expect(grown.nodes[0]!.split).toMatchObject({ feature: 0, threshold: 3.5, left: 1, right: 2 });
  });

  it('refuses to prune to looser settings than the tree was grown with', () => {
    const grown = growTree([[1], [2], [3]], [0, 1, 0], { maxDepth: 3, minNumSamples: 2, gainThreshold: 0 });
    expect(() => pruneTree(grown, { maxDepth: 4, minNumSamples: 2, gainThreshold: 0 }, ['No', 'Yes'], 1)).toThrow('cannot prune a tree grown with');
    expect(() => pruneTree(grown, { maxDepth: 3, minNumSamples: 1, gainThreshold: 0 }, ['No', 'Yes'], 1)).toThrow('to the looser');
  });
});
