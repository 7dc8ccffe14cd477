// Training speed: one ml-cart tree of the served shape fitted by stock ml-cart and by the fast split
// search, on the same rows in the same process, and the whole pipeline's duration.
// Run: npm run bench:training
import { createEncodingSpec } from '../lib/model/encoding.ts';
import { fitDecisionTree } from '../training/cart.ts';
import { readDataset } from '../training/dataset.ts';
import { DEFAULT_TRAINING_OPTIONS, encodeRows, runTraining } from '../training/pipeline.ts';
import { createRandom, splitStratified } from '../training/sampling.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
const dataset = await readDataset(DEFAULT_TRAINING_OPTIONS.dataPath);
const rows = encodeRows(createEncodingSpec(dataset.signature, { nullValues: { total_charges: 0 } }), dataset.instances);
const { train } = splitStratified(dataset.labels, DEFAULT_TRAINING_OPTIONS.testFraction, createRandom(DEFAULT_TRAINING_OPTIONS.seed));
const X = train.map((i) => rows[i]!);
const y = train.map((i) => dataset.labels[i]!);
const settings = { maxDepth: 6, minNumSamples: 3, gainThreshold: 0.01 };

const time = (fit: () => unknown) => {
  const started = performance.now();
  const result = fit();
  return { seconds: (performance.now() - started) / 1000, result };
};
fitDecisionTree(X.slice(0, 500), y.slice(0, 500), settings); // warm the JIT for both paths alike
const fast = time(() => JSON.stringify(fitDecisionTree(X, y, { ...settings, splitSearch: 'fast' }).toJSON()));
const stock = time(() => JSON.stringify(fitDecisionTree(X, y, { ...settings, splitSearch: 'stock' }).toJSON()));
out(`one depth-6 tree on ${X.length} rows (ml-cart defaults otherwise):`);
out(`  stock ml-cart      ${stock.seconds.toFixed(2)} s`);
out(`  fast split search  ${fast.seconds.toFixed(3)} s  (${(stock.seconds / fast.seconds).toFixed(0)}x faster, identical tree: ${fast.result === stock.result})`);
const pipeline = await runTraining(DEFAULT_TRAINING_OPTIONS);
out(`whole pipeline (${pipeline.results.length} candidates x ${DEFAULT_TRAINING_OPTIONS.folds} folds, selection, refit, test): ${pipeline.seconds.toFixed(1)} s`);
if (fast.result !== stock.result) process.exitCode = 1;
