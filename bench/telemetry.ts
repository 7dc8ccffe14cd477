// What drift monitoring adds to each /predict. The same process answers real customers with the 1.0.0 tree, once
// as 1.0.0 is served (no drift reference) and once with a reference computed from the training data, in
// alternating rounds, and prints the least CPU time per request of each over the rounds (the round least disturbed
// by other processes) and their difference: for the whole handler
// path through `app.request()` (validation, scoring, telemetry, JSON answer, the default access log; no socket), and for the
// scoring and telemetry step alone. Then the cost of recording one /feedback customer and of one /metrics scrape.
// Pinned to one core by the npm script so rounds are comparable.
// Run: npm run bench:telemetry [-- --requests N --rounds R]
import { parseArgs } from 'node:util';
import { computeDriftReference } from '../lib/model/reference.ts';
import { getInputCodes } from '../lib/model/signature.ts';
import { loadServedModel, type ServedModel } from '../functions/model.ts';
import { createTelemetry } from '../functions/telemetry.ts';
import { createAppForTest } from '../tests/test-app.ts';
import { readDataset } from '../training/dataset.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '11' } } });
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const out = (line: string) => process.stdout.write(`${line}\n`);

const { instances, labels } = await readDataset('training/data/telco-churn.csv');
const served = await loadServedModel({ registry: 'model-registry', name: 'telco-churn', version: '1.0.0' });
const withReference: ServedModel = { ...served, reference: computeDriftReference(served.manifest.signature, instances) };

const cpuMicroseconds = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** CPU microseconds per POST /predict of `batchSize` customers through the whole app, without a socket. */
async function measureRequests(model: ServedModel, batchSize: number, requests: number): Promise<number> {
  // The server's default access log (errors only): valid requests write no line, so none piles up in `lines`.
  const { app } = createAppForTest({ model, maxBatchInstances: 1000, maxBodyBytes: 1024 * 1024, accessLog: 'errors' });
  const bodies = Array.from({ length: 16 }, (_, i) => JSON.stringify({ instances: instances.slice(i * batchSize, (i + 1) * batchSize) }));
  const started = cpuMicroseconds();
  for (let r = 0; r < requests; r++) {
    const response = await app.request('/predict', { method: 'POST', body: bodies[r % bodies.length]!, headers: { 'content-type': 'application/json' } });
    await response.arrayBuffer();
  }
  return (cpuMicroseconds() - started) / requests;
}

/** CPU microseconds per request of the step drift counting joins: score the batch and record it. */
function measureRecording(model: ServedModel, batchSize: number, requests: number): number {
  const telemetry = createTelemetry({ collectProcessMetrics: false });
  telemetry.setModel(model, 0);
  // The input codes /predict's validation writes, for every customer once, outside the measured loop.
  const width = model.codeWidth;
  const codes = getInputCodes(model.manifest.signature, instances);
  const started = cpuMicroseconds();
  for (let r = 0; r < requests; r++) {
    const start = (r * batchSize) % (instances.length - batchSize);
    const batch = codes.subarray(start * width, (start + batchSize) * width);
    telemetry.recordPredictions(batch, width, model.predictCodes(batch, batchSize), model.threshold);
  }
  return (cpuMicroseconds() - started) / requests;
}

const compare = async (label: string, measure: (model: ServedModel) => number | Promise<number>) => {
  await measure(served); // warm up both paths alike
  await measure(withReference);
  const without: number[] = [];
  const with_: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    without.push(await measure(served));
    with_.push(await measure(withReference));
  }
  const base = Math.min(...without);
  const drift = Math.min(...with_);
  out(`  ${label.padEnd(40)} ${base.toFixed(2).padStart(8)} µs  ${drift.toFixed(2).padStart(8)} µs  ${`+${(drift - base).toFixed(2)}`.padStart(7)} µs (${((drift / base - 1) * 100).toFixed(1)}%)`);
};

out(`CPU per request, best of ${ROUNDS} alternating rounds       without ref   with ref   added`);
for (const batchSize of [1, 100]) {
  const requests = Math.max(200, Math.round(REQUESTS / batchSize));
  await compare(`POST /predict, ${batchSize} customer${batchSize === 1 ? '' : 's'}, whole app`, (model) => measureRequests(model, batchSize, Math.round(requests / 5)));
  await compare(`  of which scoring + telemetry`, (model) => measureRecording(model, batchSize, requests));
}

const telemetry = createTelemetry({ collectProcessMetrics: false });
telemetry.setModel(withReference, 0);
const churned = labels.map((label) => label === 1);
const probabilities = withReference.predict(instances);
let started = cpuMicroseconds();
for (let round = 0; round < 50; round++) telemetry.recordFeedback(probabilities, churned);
out(`/feedback: ${(((cpuMicroseconds() - started) / (50 * instances.length)) * 1000).toFixed(0)} ns CPU per labelled customer to record (scoring not included)`);
await telemetry.registry.metrics();
started = cpuMicroseconds();
for (let round = 0; round < 200; round++) await telemetry.registry.metrics();
const scrape = await telemetry.registry.metrics();
const samples = scrape.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
out(`/metrics: ${((cpuMicroseconds() - started) / 200 / 1000).toFixed(2)} ms CPU per scrape (${samples} samples, ${(scrape.length / 1024).toFixed(0)} KiB; process metrics not included)`);
