import { GaussianNB } from 'ml-naivebayes';
import { describe, expect, it } from 'vitest';
import { createGaussianNB } from '../../training/candidates.ts';
import { CALIBRATION_FORMAT } from './calibration.ts';
import {
  MAX_COMPLETE_TREE_DEPTH,
  createPredictor,
  predictProbabilities,
  type BaggedTreesParameters,
  type DecisionTreeParameters,
  type GaussianNBParameters,
  type TreeNodes,
} from './predictor.ts';
import type { EncodingSpec } from './encoding.ts';

const encoding: EncodingSpec = {
  format: 'feature-vector/1',
  columns: [
    { input: 'a', kind: 'value' },
    { input: 'b', kind: 'value' },
  ],
};
const classes = ['No', 'Yes'];

describe('decision tree predictor', () => {
  const tree: DecisionTreeParameters = {
    type: 'decision-tree',
    classes,
    featureCount: 2,
    nodes: [{ feature: 0, threshold: 10, left: 1, right: 2 }, { distribution: [0.8, 0.2] }, { feature: 1, threshold: 0.5, left: 3, right: 4 }, { distribution: [1] }, { distribution: [0.25, 0.75] }],
  };

  it('sends values below the threshold left and the rest right, as ml-cart does', () => {
    const predictor = createPredictor(tree, 'Yes');
    const vectors = Float64Array.from([9.99, 1, 10, 0, 10, 0.5]);
    expect(Array.from(predictProbabilities(predictor, vectors, 3))).toEqual([0.2, 0, 0.75]);
  });

  it('answers the probability of whichever class is positive', () => {
    expect(createPredictor(tree, 'No').predictProbability(Float64Array.from([0, 0]), 0)).toBe(0.8);
    expect(() => createPredictor(tree, 'Maybe')).toThrow('positive class Maybe');
  });

  it('walks a tree whatever order its nodes are listed in', () => {
    const reordered: DecisionTreeParameters = { ...tree, nodes: [{ feature: 0, threshold: 10, left: 4, right: 1 }, { feature: 1, threshold: 0.5, left: 3, right: 2 }, { distribution: [0.25, 0.75] }, { distribution: [1] }, { distribution: [0.8, 0.2] }] };
    const vectors = Float64Array.from([9.99, 1, 10, 0, 10, 0.5]);
    expect(Array.from(predictProbabilities(createPredictor(reordered, 'Yes'), vectors, 3))).toEqual([0.2, 0, 0.75]);
  });

  it('refuses a tree whose nodes point backwards or outside it', () => {
    const broken = { ...tree, nodes: [{ feature: 0, threshold: 1, left: 0, right: 7 }, { distribution: [1, 0] }] };
    expect(() => createPredictor(broken, 'Yes')).toThrow('decision tree node 0 points outside the tree');
  });
});

describe('bagged trees predictor', () => {
  const first: DecisionTreeParameters['nodes'] = [{ feature: 0, threshold: 10, left: 1, right: 2 }, { distribution: [0.8, 0.2] }, { distribution: [0.4, 0.6] }];
  const second: DecisionTreeParameters['nodes'] = [{ feature: 1, threshold: 0.5, left: 1, right: 2 }, { distribution: [1] }, { feature: 0, threshold: 3, left: 3, right: 4 }, { distribution: [0.5, 0.5] }, { distribution: [0.1, 0.9] }];
  const forest: BaggedTreesParameters = { type: 'bagged-trees', classes, featureCount: 2, trees: [first, second, first] };

  it('answers the mean of its trees, each walked as a decision tree', () => {
    const predictor = createPredictor(forest, 'Yes');
    const vectors = Float64Array.from([9, 0, 9, 1, 2, 1, 50, 7]);
    const single = (nodes: DecisionTreeParameters['nodes']) => predictProbabilities(createPredictor({ type: 'decision-tree', classes, featureCount: 2, nodes }, 'Yes'), vectors, 4);
    const expected = single(first).map((p, i) => (p + single(second)[i]! + p) / 3);
    expect(Array.from(predictProbabilities(predictor, vectors, 4))).toEqual(Array.from(expected));
    expect(predictor.predictProbability(Float64Array.from([50, 7]), 0)).toBe((0.6 + 0.9 + 0.6) / 3);
  });

  /** A random tree over 3 features, leaves anywhere down to `maxDepth` (all there without `leafChance`), thresholds on a coarse grid so values tie them. */
  function createRandomTree(maxDepth: number, leafChance: number, random: () => number): TreeNodes {
    const nodes: TreeNodes = [];
    const grow = (depth: number): number => {
      const index = nodes.length;
      if (depth === maxDepth || (depth > 0 && random() < leafChance)) {
        const p = Math.round(random() * 8) / 8;
        nodes.push({ distribution: [1 - p, p] });
      } else {
        const split = { feature: Math.floor(random() * 3), threshold: Math.round(random() * 10) / 2, left: -1, right: -1 };
        nodes.push(split);
        split.left = grow(depth + 1);
        split.right = grow(depth + 1);
      }
      return index;
    };
    grow(0);
    return nodes;
  }

  it('answers exactly the mean of its trees walked one by one, for shallow (complete-tree) and deep forests alike', () => {
    let state = 1;
    const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
    const vectors = Float64Array.from({ length: 3 * 400 }, (_, i) => (i < 3 * 390 ? Math.round(random() * 12) / 2 : [Number.NaN, -Infinity, Infinity][i % 3]!));
    for (const [treeCount, maxDepth, leafChance] of [
      [7, 3, 0.3],
      [50, 6, 0.3],
      [9, MAX_COMPLETE_TREE_DEPTH, 0],
      [5, MAX_COMPLETE_TREE_DEPTH + 1, 0],
    ] as const) {
      const trees = Array.from({ length: treeCount }, () => createRandomTree(maxDepth, leafChance, random));
      const forest = createPredictor({ type: 'bagged-trees', classes, featureCount: 3, trees }, 'Yes');
      const singles = trees.map((nodes) => createPredictor({ type: 'decision-tree', classes, featureCount: 3, nodes }, 'Yes'));
      for (let offset = 0; offset < vectors.length; offset += 3) {
        let sum = 0;
        for (const single of singles) sum += single.predictProbability(vectors, offset);
        expect(forest.predictProbability(vectors, offset)).toBe(sum / treeCount);
      }
    }
  });

  it('refuses a tree that points outside itself or reads a feature the vector does not have', () => {
    expect(() => createPredictor({ ...forest, trees: [first, [{ feature: 0, threshold: 1, left: 1, right: 5 }, { distribution: [1, 0] }]] }, 'Yes')).toThrow('tree 1 node 0 points outside the tree');
    expect(() => createPredictor({ ...forest, trees: [[{ feature: 2, threshold: 1, left: 1, right: 2 }, { distribution: [1, 0] }, { distribution: [0, 1] }]] }, 'Yes')).toThrow(
      'decision tree node 0 reads feature 2 of 2',
    );
    expect(() => createPredictor({ ...forest, trees: [] }, 'Yes')).toThrow('bagged trees need at least one tree');
  });

  it('passes its probability through a calibration when given one, and answers the raw one without', () => {
    const vector = Float64Array.from([50, 0]);
    expect(createPredictor(forest, 'Yes').predictProbability(vector, 0)).toBeCloseTo((0.6 + 0 + 0.6) / 3, 15);
    const clipped = createPredictor({ ...forest, trees: [second] }, 'Yes', { format: CALIBRATION_FORMAT, method: 'clip', epsilon: 0.001 });
    expect(createPredictor({ ...forest, trees: [second] }, 'Yes').predictProbability(vector, 0)).toBe(0);
    expect(clipped.predictProbability(vector, 0)).toBe(0.001);
  });
});

describe('Gaussian naive Bayes predictor', () => {
  const rows = [
    [1, 0],
    [2, 0],
    [3, 0],
    [7, 1],
    [8, 1],
    [9, 1],
  ];
  const labels = [0, 0, 0, 1, 1, 1];
  // The same classes with some spread in the second feature, so ml-naivebayes can answer.
  const spread = [
    [1, 0.1],
    [2, 0.3],
    [3, 0.2],
    [7, 0.9],
    [8, 1.1],
    [9, 0.8],
  ];

  const fitNB = async (x: number[][]) => (await createGaussianNB(classes, encoding).fit({ rows: x, labels, indices: x.map((_, i) => i), seed: 0 }))[0] as GaussianNBParameters;

  it('agrees with ml-naivebayes on the class wherever the library can answer', async () => {
    const library = new GaussianNB();
    library.train(spread, labels);
    const ours = createPredictor(await fitNB(spread), 'Yes');
    const probe = [
      [2.5, 0.2],
      [5.2, 0.5],
      [4.8, 0.55],
      [8.5, 1],
    ];
    const expected = library.predict(probe);
    expect(expected).toEqual([0, 1, 1, 1]);
    probe.forEach((row, i) => expect(ours.predictProbability(Float64Array.from(row), 0) > 0.5 ? 1 : 0).toBe(expected[i]));
  });

  it('survives a feature with zero variance within a class, where ml-naivebayes yields NaN', async () => {
    const params = await fitNB(rows);
    expect(params.variances.flat().every((variance) => variance > 0)).toBe(true);
    const probability = createPredictor(params, 'Yes').predictProbability(Float64Array.from([8, 1]), 0);
    expect(probability).toBeGreaterThan(0.99);
    expect(probability).toBeLessThanOrEqual(1);
  });

  it('answers a normalised probability where every likelihood underflows and ml-naivebayes returns class -1', async () => {
    const library = new GaussianNB();
    library.train(spread, labels);
    const far = [[1e4, 50]];
    expect(library.predict(far)).toEqual([-1]);
    const probability = createPredictor(await fitNB(spread), 'Yes').predictProbability(Float64Array.from(far[0]!), 0);
    expect(Number.isFinite(probability)).toBe(true);
    expect(probability).toBeGreaterThan(0.5);
  });
});
