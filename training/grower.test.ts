import { describe, expect, it } from 'vitest';
import { createEncodingSpec } from '../lib/model/encoding.ts';
import { createPredictor } from '../lib/model/predictor.ts';
import { createBaggedTrees } from './candidates.ts';
import { growTree, pruneTree } from './cart.ts';
import { LABEL, readDataset } from './dataset.ts';
import { createTreeGrower, growSampledTree, type GrowJob } from './grower.ts';
import { encodeRows } from './pipeline.ts';
import { createRandom, drawBootstrap } from './sampling.ts';

const dataset = await readDataset('training/data/telco-churn.csv');
const encoding = createEncodingSpec(dataset.signature, { nullValues: { total_charges: 0 } });
const rows = encodeRows(encoding, dataset.signature, dataset.instances).slice(0, 1500);
const labels = dataset.labels.slice(0, 1500);
const rules = { maxDepth: 5, minNumSamples: 20, gainThreshold: 0 };

describe('growing trees', () => {
  it('grows the same trees in worker threads as in this thread, in job order', async () => {
    const random = createRandom(3);
    const indices = rows.map((_, i) => i);
    const jobs: GrowJob[] = Array.from({ length: 6 }, (_, j) => ({ sample: drawBootstrap(indices, 700, random), columns: j % 2 === 0 ? null : [0, 4, 17, 25, 38, 39], rules }));
    const inline = createTreeGrower(rows, labels, { workers: 1 });
    const threaded = createTreeGrower(rows, labels, { workers: 2 });
    try {
      const expected = await inline.grow(jobs);
      expect(await threaded.grow(jobs)).toEqual(expected);
      expect(expected[0]).toEqual(
        growTree(
          jobs[0]!.sample.map((i) => rows[i]!),
          jobs[0]!.sample.map((i) => labels[i]!),
          rules,
        ),
      );
    } finally {
      await threaded.close();
    }
  });

  it('maps the splits of a tree grown on some columns back to the full feature vector', () => {
    const columns = [4, 17, 25, 38];
    const data = { matrix: Float64Array.from(rows.flat()), labels: Int32Array.from(labels), width: rows[0]!.length, classCount: 2 };
    const sample = rows.map((_, i) => i);
    const grown = growSampledTree(data, { sample, columns, rules });
    const narrow = growTree(
      rows.map((row) => columns.map((c) => row[c]!)),
      labels,
      rules,
    );
    const tree = createPredictor(pruneTree(grown, rules, LABEL.classes, 40), 'Yes');
    const narrowTree = createPredictor(pruneTree(narrow, rules, LABEL.classes, columns.length), 'Yes');
    expect(grown.nodes.every((node) => node.split === undefined || columns.includes(node.split.feature))).toBe(true);
    for (const row of rows.slice(0, 300)) {
      expect(tree.predictProbability(Float64Array.from(row), 0)).toBe(narrowTree.predictProbability(Float64Array.from(columns.map((c) => row[c]!)), 0));
    }
  });

  it('fits a bagged-trees grid reproducibly from the seed, each member pruned from the same bootstrap trees', async () => {
    const grower = createTreeGrower(rows, labels, { workers: 1 });
    const grid = { trees: 4, featureFraction: 0.5, rules: [rules, { ...rules, maxDepth: 3 }] };
    const group = createBaggedTrees(LABEL.classes, encoding, grid, grower);
    const input = { rows, labels, indices: rows.map((_, i) => i), seed: 11 };
    const [deep, shallow] = await group.fit(input);
    expect(await group.fit(input)).toEqual([deep, shallow]);
    expect(await group.fit(input, [1])).toEqual([shallow]);
    expect(await group.fit({ ...input, seed: 12 })).not.toEqual([deep, shallow]);
    expect(group.candidates.map((c) => c.id)).toEqual([
      'bagged-trees trees=4 featureFraction=0.5 maxDepth=5 minNumSamples=20 gainThreshold=0',
      'bagged-trees trees=4 featureFraction=0.5 maxDepth=3 minNumSamples=20 gainThreshold=0',
    ]);
    if (deep?.type !== 'bagged-trees' || shallow?.type !== 'bagged-trees') throw new Error('expected bagged trees');
    expect(deep.trees).toHaveLength(4);
    // Half the 40 columns per tree: no tree splits on more than 20 distinct features.
    for (const nodes of deep.trees) expect(new Set(nodes.flatMap((node) => ('feature' in node ? [node.feature] : []))).size).toBeLessThanOrEqual(20);
  });
});
