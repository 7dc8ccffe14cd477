import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestContents } from '../tests/fixtures.ts';
import { loadVersion, publishVersion } from '../lib/registry/registry.ts';
import { createDirectorySource } from '../lib/registry/source.ts';
import { runGate } from './gate.ts';

const loadProduction = () => loadVersion(createDirectorySource('model-registry'), 'telco-churn', 'production');

describe('the quality gate', () => {
  it('passes production against itself, re-scoring it to the test AUC its manifest records', async () => {
    const production = await loadProduction();
    const result = await runGate(production, production);
    expect(result.passed).toBe(true);
    expect(result.candidate.rocAuc).toBeCloseTo(production.manifest.metrics.test.rocAuc, 12);
    expect(result.candidate.brier).toBeCloseTo(production.manifest.metrics.test.brier, 12);
    expect(result.candidate.logLoss).toBeCloseTo(production.manifest.metrics.test.logLoss!, 12);
  });

  it('fails a candidate below the bar and worse than production, saying why', async () => {
    const registry = await mkdtemp(join(tmpdir(), 'gate-'));
    const contents = createTestContents('2.0.0');
    // The one-split fixture tree, claiming the committed data and the production split.
    const production = await loadProduction();
    contents.manifest.data = production.manifest.data;
    contents.manifest.training = production.manifest.training;
    await publishVersion(registry, contents);
    const candidate = await loadVersion(createDirectorySource(registry), 'telco-churn', '2.0.0');
    const result = await runGate(candidate, production);
    expect(result.passed).toBe(false);
    expect(result.reasons).toEqual([
      expect.stringMatching(/^test ROC AUC 0\.\d{4} is below the bar of 0\.8$/),
      `test ROC AUC ${result.candidate.rocAuc.toFixed(4)} is worse than production's ${production.manifest.metrics.test.rocAuc.toFixed(4)} by more than 0.005`,
      `test Brier score ${result.candidate.brier.toFixed(4)} is worse than production's ${production.manifest.metrics.test.brier.toFixed(4)} by more than 0.005`,
    ]);
  });

  it('fails a candidate whose log loss is infinite, however well it ranks', async () => {
    const production = await loadProduction();
    const certain = { ...production, calibration: undefined, model: { type: 'constant' as const, classes: ['No', 'Yes'], featureCount: production.encoding.columns.length, distribution: [1, 0] } };
    const result = await runGate(certain, production, { minRocAuc: 0, tolerance: 1, brierTolerance: 1 });
    expect(result.candidate.logLoss).toBe(Infinity);
    expect(result.reasons).toEqual(['test log loss is infinite: a customer got probability 0 or 1 and the other outcome happened']);
  });
});
