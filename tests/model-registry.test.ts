import { describe, expect, it } from 'vitest';
import { createArtifactPredictor } from '../lib/model/artifact.ts';
import { createEncoder } from '../lib/model/encoding.ts';
import type { DecisionTreeParameters } from '../lib/model/predictor.ts';
import { createDirectorySource } from '../lib/registry/source.ts';
import { loadVersion, verifyRegistry } from '../lib/registry/registry.ts';
import { readDataset } from '../training/dataset.ts';

describe('the committed model registry', () => {
  it('verifies: every file matches its digest, every history chain and alias table is intact', async () => {
    expect(await verifyRegistry('model-registry')).toEqual([]);
  });

  it('has a production model, trained on the committed data, with test ROC AUC of at least 0.80', async () => {
    const production = await loadVersion(createDirectorySource('model-registry'), 'telco-churn', 'production');
    expect(production.manifest.metrics.test.rocAuc).toBeGreaterThanOrEqual(0.8);
    expect(production.manifest.data.sha256).toBe('sha256:bce753babf371d0b9aeda2345bec717be3d03fea4912f95f693ab954feb47492');
  });

  it('keeps 1.0.0, the rollback target, answering exactly the leaf its tree reaches for every customer', async () => {
    const artifact = await loadVersion(createDirectorySource('model-registry'), 'telco-churn', '1.0.0');
    const tree = artifact.model as DecisionTreeParameters;
    expect(artifact.manifest.format).toBe('churn-model/1');
    expect(artifact.calibration).toBeUndefined();
    const encode = createEncoder(artifact.encoding, artifact.manifest.signature);
    const predictor = createArtifactPredictor(artifact);
    const vector = new Float64Array(artifact.encoding.columns.length);
    // The stored tree walked by hand: ml-cart's rule, value < threshold goes left.
    const walk = (index: number): number => {
      const node = tree.nodes[index]!;
      return 'distribution' in node ? (node.distribution[1] ?? 0) : walk(vector[node.feature]! < node.threshold ? node.left : node.right);
    };
    for (const instance of (await readDataset(artifact.manifest.data.path)).instances) {
      encode(instance, vector, 0);
      expect(predictor.predictProbability(vector, 0)).toBe(walk(0));
    }
  });
});
