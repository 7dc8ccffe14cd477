import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createArtifactPredictor } from '../lib/model/artifact.ts';
import { predictProbabilities } from '../lib/model/predictor.ts';
import { readHistory, loadVersion, verifyRegistry } from '../lib/registry/registry.ts';
import { createDirectorySource } from '../lib/registry/source.ts';
import { PARAMETER_FILES } from './changes.ts';
import { readDataset } from './dataset.ts';
import { getLogLoss } from './metrics.ts';
import { encodeRows, runTraining, type TrainingResult } from './pipeline.ts';
import { publishTrainingResult } from './train.ts';

// One training run (the slow part) feeds every test below.
let result: TrainingResult;
const lines: string[] = [];
const log = (line: string) => lines.push(line);

beforeAll(async () => {
  result = await runTraining();
}, 300_000);

describe('training and publishing', () => {
  it('publishes a verifiable first version into an empty registry and points the alias at it', async () => {
    const registry = await mkdtemp(join(tmpdir(), 'train-'));
    const published = await publishTrainingResult(result, { registry, model: 'telco-churn', promote: 'staging' }, log);
    expect(published).toMatchObject({ outcome: 'published', version: '1.0.0' });
    expect(lines).toContain(`digest ${published.digest}`);
    expect(lines.some((line) => line.startsWith('published telco-churn 1.0.0 (first version)'))).toBe(true);
    expect(await verifyRegistry(registry)).toEqual([]);
    const trained = await loadVersion(createDirectorySource(registry), 'telco-churn', 'staging');
    expect(trained.manifest.format).toBe('churn-model/2');
    expect(trained.manifest.metrics.test.rocAuc).toBeGreaterThanOrEqual(0.8);
    expect(trained.reference?.rows).toBe(result.data.trainRows);

    // Again into the same registry: nothing new, and the run says which version it reproduces.
    const again = await publishTrainingResult(result, { registry, model: 'telco-churn', promote: 'staging' }, log);
    expect(again).toEqual({ outcome: 'unchanged', version: '1.0.0', digest: published.digest });
    expect(lines).toContain("unchanged telco-churn 1.0.0 (its parameters equal this run's; nothing published, staging not moved)");
    expect((await readHistory(registry, 'telco-churn')).events.map((event) => event.event)).toEqual(['publish', 'promote']);
  });

  it('reproduces the committed production version byte for byte: retraining it publishes nothing', async () => {
    const production = await loadVersion(createDirectorySource('model-registry'), 'telco-churn', 'production');
    const registry = await mkdtemp(join(tmpdir(), 'train-'));
    await cp('model-registry', registry, { recursive: true });
    const outcome = await publishTrainingResult(result, { registry, model: 'telco-churn' }, log);
    expect(outcome).toEqual({ outcome: 'unchanged', version: production.manifest.version, digest: production.digest });
    expect(result.threshold).toBe(production.manifest.threshold);
    // The same, file by file, against a fresh publication of this run.
    const fresh = await mkdtemp(join(tmpdir(), 'train-'));
    await publishTrainingResult(result, { registry: fresh, model: 'telco-churn' }, log);
    for (const file of PARAMETER_FILES) {
      const trained = await readFile(join(fresh, 'telco-churn', '1.0.0', file));
      const committed = await readFile(join('model-registry', 'telco-churn', production.manifest.version, file));
      expect(trained.equals(committed), `${file} differs from the committed production version`).toBe(true);
    }
  });

  it('serves no probability of exactly 0 or 1, so log loss stays finite on every customer', async () => {
    const production = await loadVersion(createDirectorySource('model-registry'), 'telco-churn', 'production');
    const { instances, labels } = await readDataset(production.manifest.data.path);
    const rows = encodeRows(production.encoding, production.manifest.signature, instances);
    const scores = predictProbabilities(createArtifactPredictor(production), Float64Array.from(rows.flat()), rows.length);
    expect(Math.min(...scores)).toBeGreaterThan(0);
    expect(Math.max(...scores)).toBeLessThan(1);
    expect(Number.isFinite(getLogLoss(scores, labels))).toBe(true);
  });

  it('writes a model card with the family comparison, calibration, cost, reliability and subgroup evidence', async () => {
    const registry = await mkdtemp(join(tmpdir(), 'train-'));
    await publishTrainingResult(result, { registry, model: 'telco-churn' }, log);
    const dir = join(registry, 'telco-churn', '1.0.0');
    const card = await readFile(join(dir, 'model-card.md'), 'utf8');
    for (const family of ['gaussian-nb', 'decision-tree', 'bagged-trees', 'majority-baseline']) expect(card).toMatch(new RegExp(`^\\| ${family} \\|`, 'm'));
    expect(card).toContain('![Reliability diagram](reliability-diagram.svg)');
    expect(card).toContain(`**ECE ${result.test.ece.toFixed(4)}, Brier ${result.test.brier.toFixed(4)}, log loss ${result.test.logLoss.toFixed(4)}**`);
    expect(card).toContain(`**${result.distinctProbabilities.data} distinct probabilities**`);
    expect(card).toMatch(/^\| flag everyone \| 0 \|/m);
    for (const group of ['contract = Month-to-month', 'contract = Two year', 'senior_citizen = 1', 'female = 0']) expect(card).toContain(`| ${group}`);
    expect(result.testSubgroups.filter((g) => g.input === 'contract').every((g) => g.rows > 0)).toBe(true);
    const svg = await readFile(join(dir, 'reliability-diagram.svg'), 'utf8');
    expect(svg).toContain(`ECE ${result.test.ece.toFixed(4)}`);
  });
});
