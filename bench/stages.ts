// Where a 1,000-customer /predict goes, stage by stage, in one process without HTTP: decode the body's bytes into
// input codes (or, for a body the decoder declines, parse it and validate it), score (encode + forest +
// calibration), record drift and range counts, write the answer; then one customer per body, decoded against
// parsed and validated. Then
// the two measurements behind design choices of the validation path: looking a freshly parsed string up in a Map
// against comparing it with a category's few values, and a Float64Array of 19 codes with its own buffer against a
// view on a shared block. CPU time (process.cpuUsage), median and spread over interleaved rounds.
// Run: npm run bench:stages [-- --rounds 300]
import { parseArgs } from 'node:util';
import { decodeBatch, getBodyText, validateBatch } from '../functions/batch.ts';
import { loadServedModel } from '../functions/model.ts';
import { formatPredictions } from '../functions/predict.ts';
import { createTelemetry } from '../functions/telemetry.ts';
import { readDataset } from '../training/dataset.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '300' } } });
const ROUNDS = Number(values.rounds);
const out = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const customers = (await readDataset('training/data/telco-churn.csv')).instances.slice(0, 1000);
const model = await loadServedModel({ registry: 'model-registry', name: 'telco-churn', version: 'production' });
const telemetry = createTelemetry({ collectProcessMetrics: false });
telemetry.setModel(model, 0);
const bytes = Buffer.from(JSON.stringify({ instances: customers }));

const stages = new Map<string, number[]>();
const time = <T>(name: string, work: () => T): T => {
  const started = cpuMicros();
  const result = work();
  if (!stages.has(name)) stages.set(name, []);
  stages.get(name)!.push((cpuMicros() - started) / 1000);
  return result;
};
for (let round = 0; round < ROUNDS + 50; round++) {
  const decoded = time('decode the bytes into input codes', () => decodeBatch(bytes, model, customers.length));
  // The path of a body the decoder declines, on the same body.
  const body = time('  declined instead: parse (JSON.parse)', () => JSON.parse(getBodyText(bytes)) as unknown);
  const batch = time('  declined instead: validate into codes', () => validateBatch(body, model));
  if (!batch.ok || decoded === undefined || decoded.codes.some((code, i) => !Object.is(code, batch.codes[i]))) throw new Error('the data set failed decoding or validation');
  const probabilities = time('score (encode, forest, calibration)', () => model.predictCodes(batch.codes, customers.length));
  time('record drift and range counts', () => telemetry.recordPredictions(batch.codes, model.codeWidth, probabilities, model.threshold));
  time('write the answer', () => Buffer.byteLength(formatPredictions(model, probabilities)));
  // The first rounds warm the JIT up and are not counted.
  if (round === 49) stages.clear();
}
out(`A 1,000-customer /predict by stage, ${model.version}, ${ROUNDS} rounds, Node ${process.version}: CPU ms, median (lowest–highest)`);
for (const [name, samples] of stages) out(`  ${name.padEnd(40)} ${median(samples).toFixed(3)} (${spread(samples, 3)})`);

let sink = 0;
// One customer per body, as most clients send: decoding its bytes against the text + parse + validate a declined
// body costs, 2,000 bodies per sample, the two alternating.
const singleBodies = customers.slice(0, 100).map((customer) => Buffer.from(JSON.stringify({ instances: [customer] })));
const single: Record<string, number[]> = { 'decode the bytes': [], 'text + JSON.parse + validate': [] };
const singleWays: Record<string, (body: Buffer) => unknown> = {
  'decode the bytes': (body) => decodeBatch(body, model, 1),
  'text + JSON.parse + validate': (body) => validateBatch(JSON.parse(getBodyText(body)) as unknown, model),
};
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 === 0 ? Object.keys(singleWays) : Object.keys(singleWays).reverse()) {
    const started = cpuMicros();
    for (let i = 0; i < 2000; i++) sink += singleWays[name]!(singleBodies[i % singleBodies.length]!) === undefined ? 1 : 0;
    if (round >= 20) single[name]!.push((cpuMicros() - started) / 2000);
  }
}
out('\nA one-customer body into input codes: µs per body, median (lowest–highest)');
for (const [name, samples] of Object.entries(single)) out(`  ${name.padEnd(40)} ${median(samples).toFixed(2)} (${spread(samples, 2)})`);

// A category value from a parsed body is a new string: a Map hashes it before it can look it up.
const allowed = ['Electronic check', 'Mailed check', 'Bank transfer (automatic)', 'Credit card (automatic)'];
const map = new Map(allowed.map((value, index) => [value, index]));
const parsed = () => JSON.parse(JSON.stringify(Array.from({ length: 4000 }, (_, i) => allowed[i % allowed.length]))) as string[];
const lookups: Record<string, number[]> = { 'Map.get': [], 'comparison with each value': [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 === 0 ? ['Map.get', 'comparison with each value'] : ['comparison with each value', 'Map.get']) {
    const strings = parsed();
    const started = cpuMicros();
    for (const value of strings) {
      if (name === 'Map.get') sink += map.get(value)!;
      else {
        let position = 0;
        while (position < allowed.length && allowed[position] !== value) position++;
        sink += position;
      }
    }
    lookups[name]!.push(((cpuMicros() - started) * 1000) / strings.length);
  }
}
out('\nA freshly parsed category value among 4 allowed ones: ns per lookup, median (lowest–highest)');
for (const [name, samples] of Object.entries(lookups)) out(`  ${name.padEnd(40)} ${median(samples).toFixed(1)} (${spread(samples, 1)})`);

// 19 input codes: a typed array with its own buffer (outside V8's heap above 64 bytes) or a view on a shared block.
const allocations: Record<string, number[]> = { 'new Float64Array(19)': [], 'view on a shared 64 KiB block': [] };
let block = new ArrayBuffer(64 * 1024);
let used = 0;
for (let round = 0; round < 20; round++) {
  for (const name of Object.keys(allocations)) {
    const started = cpuMicros();
    for (let i = 0; i < 100_000; i++) {
      let codes: Float64Array;
      if (name === 'new Float64Array(19)') codes = new Float64Array(19);
      else {
        if (used + 152 > block.byteLength) {
          block = new ArrayBuffer(64 * 1024);
          used = 0;
        }
        codes = new Float64Array(block, used, 19);
        used += 152;
      }
      codes[0] = i;
      sink += codes[0];
    }
    allocations[name]!.push((cpuMicros() - started) / 100);
  }
}
out('\n19 input codes: ns per allocation, median (lowest–highest)');
for (const [name, samples] of Object.entries(allocations)) out(`  ${name.padEnd(40)} ${median(samples).toFixed(0)} (${spread(samples, 0)})`);
if (Number.isNaN(sink)) throw new Error('unreachable');
