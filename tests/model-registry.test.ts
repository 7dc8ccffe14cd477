import { describe, expect, it } from 'vitest';
import { createDirectorySource } from '../lib/registry/source.ts';
import { loadVersion, verifyRegistry } from '../lib/registry/registry.ts';

describe('the committed model registry', () => {
  it('verifies: every file matches its digest, every history chain and alias table is intact', async () => {
    expect(await verifyRegistry('model-registry')).toEqual([]);
  });

  it('has a production model, trained on the committed data, with test ROC AUC of at least 0.80', async () => {
    const production = await loadVersion(createDirectorySource('model-registry'), 'telco-churn', 'production');
    expect(production.manifest.metrics.test.rocAuc).toBeGreaterThanOrEqual(0.8);
    expect(production.manifest.data.sha256).toBe('sha256:bce753babf371d0b9aeda2345bec717be3d03fea4912f95f693ab954feb47492');
  });
});
