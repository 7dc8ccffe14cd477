// Serving cost of the model itself: CPU time per customer of ServedModel.predict (encode + predict, the
// work /predict does after validation) for two registry versions, one customer per call and in batches
// of 1,000, in interleaved rounds so both see the same machine. Prints medians and the spread.
// Run: npm run bench:predictor [-- --baseline 1.0.0 --candidate production --rounds 15]
import { parseArgs } from 'node:util';
import { loadServedModel, type ServedModel } from '../functions/model.ts';
import type { Instance } from '../lib/model/signature.ts';
import { readDataset } from '../training/dataset.ts';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string', default: '1.0.0' },
    candidate: { type: 'string', default: 'production' },
    rounds: { type: 'string', default: '15' },
    registry: { type: 'string', default: 'model-registry' },
  },
});
const rounds = Number(values.rounds);
const BATCH_INSTANCES = 1000;
const out = (line: string) => process.stdout.write(`${line}\n`);

const customers: Instance[] = (await readDataset('training/data/telco-churn.csv')).instances;
const load = (version: string) => loadServedModel({ registry: values.registry, name: 'telco-churn', version });
const models: ServedModel[] = [await load(values.baseline), await load(values.candidate)];

/** CPU microseconds per customer of one pass over every customer, one per call or in batches. */
function measure(model: ServedModel, batch: number): number {
  let sink = 0;
  const started = process.cpuUsage();
  if (batch === 1) {
    for (const customer of customers) sink += model.predict([customer])[0]!;
  } else {
    for (let i = 0; i < customers.length; i += batch) sink += model.predict(customers.slice(i, i + batch))[0]!;
  }
  const used = process.cpuUsage(started);
  if (Number.isNaN(sink)) throw new Error('a prediction was NaN');
  return (used.user + used.system) / customers.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

// Warm up both (JIT), then rounds alternating which model goes first.
for (const model of models) {
  for (let i = 0; i < 3; i++) {
    measure(model, 1);
    measure(model, BATCH_INSTANCES);
  }
}
const samples = models.map(() => ({ single: [] as number[], batch: [] as number[] }));
const differences: number[] = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  const single: number[] = [];
  for (const m of order) {
    single[m] = measure(models[m]!, 1);
    samples[m]!.single.push(single[m]!);
  }
  for (const m of order) samples[m]!.batch.push(measure(models[m]!, BATCH_INSTANCES));
  differences.push(single[1]! - single[0]!);
}

out(`ServedModel.predict CPU time per customer, ${customers.length} customers per pass, ${rounds} interleaved rounds (median, min–max), Node ${process.version}`);
out('| version | algorithm | one customer per call µs | batches of 1,000 µs |');
out('|---|---|---|---|');
models.forEach((model, m) => {
  const { single, batch } = samples[m]!;
  out(`| ${model.version} | ${model.manifest.algorithm.name} | ${median(single).toFixed(2)} (${spread(single)}) | ${median(batch).toFixed(2)} (${spread(batch)}) |`);
});
out(`${models[1]!.version} − ${models[0]!.version}, one customer per call, same round: ${median(differences).toFixed(2)} µs (${spread(differences)})`);
