// Training speed: one ml-cart tree fitted by stock ml-cart and by the fast split search; the default
// tree grid fitted setting by setting and grown once then pruned; both on the same rows in the same
// process, with identical results required; then the whole pipeline's wall and CPU time.
// Run: npm run bench:training
import { createEncodingSpec } from '../lib/model/encoding.ts';
import { fitDecisionTree, getLoosestRules, growTree, pruneTree, toTreeParameters } from '../training/cart.ts';
import { readDataset } from '../training/dataset.ts';
import { DEFAULT_TRAINING_OPTIONS, encodeRows, runTraining } from '../training/pipeline.ts';
import { createRandom, splitStratified } from '../training/sampling.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
const dataset = await readDataset(DEFAULT_TRAINING_OPTIONS.dataPath);
const rows = encodeRows(createEncodingSpec(dataset.signature, { nullValues: { total_charges: 0 } }), dataset.signature, dataset.instances);
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

const grid = DEFAULT_TRAINING_OPTIONS.treeGrid;
const classes = ['No', 'Yes'];
const each = time(() => JSON.stringify(grid.map((rules) => toTreeParameters(fitDecisionTree(X, y, rules), classes, X[0]!.length))));
const pruned = time(() => {
  const grown = growTree(X, y, getLoosestRules(grid));
  return JSON.stringify(grid.map((rules) => pruneTree(grown, rules, classes, X[0]!.length)));
});
out(`the ${grid.length}-setting tree grid on ${X.length} rows:`);
out(`  one fit per setting     ${each.seconds.toFixed(2)} s`);
out(`  grown once, pruned      ${pruned.seconds.toFixed(2)} s  (${(each.seconds / pruned.seconds).toFixed(0)}x faster, identical trees: ${each.result === pruned.result})`);

const cpu = process.cpuUsage();
const pipeline = await runTraining(DEFAULT_TRAINING_OPTIONS);
const used = process.cpuUsage(cpu);
out(
  `whole pipeline (${pipeline.results.length} candidates x ${DEFAULT_TRAINING_OPTIONS.folds} folds, selection, calibration, refit, test) with ${pipeline.workers} worker thread(s): ${pipeline.seconds.toFixed(1)} s wall, ${((used.user + used.system) / 1e6).toFixed(1)} s CPU`,
);
out(`  by family: ${Object.entries(pipeline.timings).map(([family, seconds]) => `${family} ${seconds.toFixed(1)} s`).join(', ')}`);
if (fast.result !== stock.result || each.result !== pruned.result) process.exitCode = 1;
