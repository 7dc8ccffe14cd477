import { describe, expect, it } from 'vitest';
import { createEncodingSpec } from '../lib/model/encoding.ts';
import { createPredictor } from '../lib/model/predictor.ts';
import { growTree, pruneTree } from './cart.ts';
import { LABEL, readDataset } from './dataset.ts';
import { createTreeGrower, growSampledTree, type GrowJob } from './grower.ts';
import { encodeRows } from './pipeline.ts';
import { createRandom, drawBootstrap } from './sampling.ts';

const dataset = await readDataset('training/data/telco-churn.csv');
const encoding = createEncodingSpec(dataset.signature, { nullValues: { total_charges: 0 } });
const rows = encodeRows(encoding, dataset.instances).slice(0, 1500);
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

});
