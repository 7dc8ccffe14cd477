import { describe, expect, it } from 'vitest';
import { computeDriftReference } from '../lib/model/reference.ts';
import { createAppForTest } from '../tests/test-app.ts';
import { createAdmission } from './admission.ts';
import { readDataset } from '../training/dataset.ts';
import { loadServedModel } from './model.ts';

const { instances, labels, signature } = await readDataset('training/data/telco-churn.csv');
const churned = labels.map((label) => label === 1);
// 1.0.0, the single tree: few distinct probabilities, so /health's ROC AUC must equal the pairwise one exactly.
const model = await loadServedModel({ registry: 'model-registry', name: 'telco-churn', version: '1.0.0' });

type Metrics = { n: number; churned: number; rocAuc: number | null; accuracy: number | null; precision: number | null; recall: number | null; brier: number | null };

/** The offline figures, computed here from the scores without any code of the service: pairwise AUC, counts at the threshold. */
function computeOffline(scores: ArrayLike<number>, outcomes: readonly boolean[], threshold: number): Metrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let squared = 0;
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < outcomes.length; i++) {
    const flagged = scores[i]! >= threshold;
    if (outcomes[i] && flagged) tp++;
    else if (outcomes[i]) fn++;
    else if (flagged) fp++;
    else tn++;
    squared += (scores[i]! - (outcomes[i] ? 1 : 0)) ** 2;
    (outcomes[i] ? positives : negatives).push(scores[i]!);
  }
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  const n = outcomes.length;
  return { n, churned: tp + fn, rocAuc: wins / (positives.length * negatives.length), accuracy: (tp + tn) / n, precision: tp / (tp + fp), recall: tp / (tp + fn), brier: squared / n };
}

const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string; details: { path: string; message: string }[] } }).error;
const feedback = (body: unknown) => JSON.stringify(body);

describe('POST /feedback', () => {
  it('gives /health the offline quality of every customer sent, batch after batch (6,000 labelled customers)', async () => {
    const { app, post } = createAppForTest({ model, maxBatchInstances: 1000, maxBodyBytes: 1024 * 1024 });
    for (let start = 0; start < instances.length; start += 1000) {
      const response = await post('/feedback', feedback({ instances: instances.slice(start, start + 1000), outcomes: churned.slice(start, start + 1000) }));
      expect(response.status).toBe(200);
    }
    const offline = computeOffline(model.predict(instances), churned, model.threshold);
    const { quality } = ((await (await app.request('/health')).json()) as { telemetry: { quality: Record<string, any> } }).telemetry;
    expect(quality.observations).toBe(offline.n);
    expect(quality.churned).toBe(offline.churned);
    expect(Math.abs(quality.rocAuc.live - offline.rocAuc!)).toBeLessThan(1e-12);
    expect(quality.accuracy.live).toBe(offline.accuracy);
    expect(quality.precision.live).toBe(offline.precision);
    expect(quality.recall.live).toBe(offline.recall);
    expect(quality.brier.live).toBeCloseTo(offline.brier!, 12);
    for (const metric of ['rocAuc', 'accuracy', 'precision', 'recall', 'brier'] as const) expect(quality[metric].expected).toBe(model.manifest.metrics.test[metric]);
  });

  it("answers the batch's own figures with the model that scored it", async () => {
    const { post } = createAppForTest({ model, maxBatchInstances: 1000, maxBodyBytes: 1024 * 1024 });
    const batch = instances.slice(1000, 1300);
    const outcomes = churned.slice(1000, 1300);
    const body = (await (await post('/feedback', feedback({ instances: batch, outcomes }))).json()) as { model: unknown; metrics: Metrics };
    expect(body.model).toEqual({ name: 'telco-churn', version: model.version });
    const offline = computeOffline(model.predict(batch), outcomes, model.threshold);
    expect(body.metrics).toMatchObject({ ...offline, rocAuc: expect.closeTo(offline.rocAuc!, 12), brier: expect.closeTo(offline.brier!, 12) });
  });

  it('answers null for figures a batch cannot define, such as ROC AUC with one outcome', async () => {
    const { post } = createAppForTest({ model });
    const response = await post('/feedback', feedback({ instances: instances.slice(0, 2), outcomes: [false, false] }));
    expect(((await response.json()) as { metrics: Metrics }).metrics).toMatchObject({ n: 2, churned: 0, rocAuc: null, recall: null });
  });

  it('refuses bad bodies as /predict does, naming each field', async () => {
    const { post } = createAppForTest({ model });
    const batch = instances.slice(0, 5).map((customer) => ({ ...customer }));
    batch[3]!.tenure = -1;
    const invalid = await post('/feedback', feedback({ instances: batch, outcomes: [true, false, 'yes', false] }));
    expect(invalid.status).toBe(422);
    expect((await errorOf(invalid)).details).toEqual([
      { path: 'instances.3.tenure', message: 'expected an integer >= 0' },
      { path: 'outcomes.2', message: 'expected true (churned) or false (stayed)' },
      { path: 'outcomes', message: 'expected exactly one outcome per customer' },
    ]);
    const missing = await post('/feedback', feedback({ instances: batch.slice(0, 1) }));
    expect((await errorOf(missing)).details).toEqual([{ path: 'outcomes', message: 'required' }]);
    for (const body of ['null', '[]', '{"instances": [], "outcomes": []}']) expect((await post('/feedback', body)).status).toBe(422);
  });

  it('answers 413 beyond the instance or byte limit, 415, 400 and 503 like /predict', async () => {
    const { post } = createAppForTest({ model, maxBatchInstances: 5, maxBodyBytes: 4096 });
    const tooMany = await post('/feedback', feedback({ instances: instances.slice(0, 1), outcomes: Array(6).fill(true) }));
    expect(tooMany.status).toBe(413);
    expect((await errorOf(tooMany)).details).toEqual([{ path: 'outcomes', message: 'expected at most 5 outcomes' }]);
    expect((await post('/feedback', feedback({ instances: instances.slice(0, 6), outcomes: churned.slice(0, 6) }))).status).toBe(413);
    expect((await post('/feedback', feedback({ instances: instances.slice(0, 5), outcomes: churned.slice(0, 5), padding: 'x'.repeat(5000) }))).status).toBe(413);
    expect((await post('/feedback', feedback({ instances: instances.slice(0, 1), outcomes: [true] }), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('/feedback', '{"instances": [')).status).toBe(400);
    const loading = createAppForTest({ model: undefined });
    expect((await loading.post('/feedback', feedback({ instances: instances.slice(0, 1), outcomes: [true] }))).status).toBe(503);
  });

  it('stops checking once it knows more problems than a 422 lists, as /predict does', async () => {
    const { post } = createAppForTest({ model, maxBatchInstances: 1000, maxBodyBytes: 1024 * 1024 });
    const response = await post('/feedback', feedback({ instances: instances.slice(0, 1000), outcomes: Array(1000).fill('yes') }));
    expect(response.status).toBe(422);
    const error = await errorOf(response);
    expect(error.details).toHaveLength(100);
    expect(error.details[99]).toEqual({ path: 'outcomes.99', message: 'expected true (churned) or false (stayed)' });
    expect(error.message).toContain('more than 100 problems');
  });

  it('goes through admission control: 503 with Retry-After once a budget is spent', async () => {
    const admission = createAdmission({ maxInflightRequests: 1, maxInflightBodyBytes: 1024 * 1024, maxBusyMs: 60_000 });
    const { post } = createAppForTest({ model, admission });
    const release = admission.admit(10);
    const refused = await post('/feedback', feedback({ instances: instances.slice(0, 1), outcomes: [true] }));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    release();
    expect((await post('/feedback', feedback({ instances: instances.slice(0, 1), outcomes: [true] }))).status).toBe(200);
  });

  it('counts nothing into the prediction or drift telemetry, which describe /predict traffic', async () => {
    const { post, telemetry, app } = createAppForTest({ model: { ...model, reference: computeDriftReference(signature, instances) } });
    await post('/feedback', feedback({ instances: instances.slice(0, 3), outcomes: [true, false, true] }));
    const health = telemetry.getHealth();
    expect(health.predictions.total).toBe(0);
    expect(health.drift.features!.tenure).toEqual({ n: 0, psi: null });
    expect(health.quality.observations).toBe(3);
    expect((await app.request('/feedback')).headers.get('allow')).toBe('POST');
  });
});
