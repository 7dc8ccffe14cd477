import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CALIBRATION_FORMAT } from '../lib/model/calibration.ts';
import type { DecisionTreeParameters } from '../lib/model/predictor.ts';
import { publishVersion } from '../lib/registry/registry.ts';
import { createTestContents } from '../tests/fixtures.ts';
import { compareWithRegistry } from './changes.ts';

describe('comparing a retrain with the registry', () => {
  it('finds nothing in an empty registry', async () => {
    expect(await compareWithRegistry(await mkdtemp(join(tmpdir(), 'changes-')), 'telco-churn', createTestContents('1.0.0'))).toEqual({});
  });

  it('names the published version whose parameters it reproduces, whatever its version number, date or card say', async () => {
    const registry = await mkdtemp(join(tmpdir(), 'changes-'));
    const { digest } = await publishVersion(registry, createTestContents('1.0.0'));
    const retrain = createTestContents('1.1.0');
    retrain.manifest.created = '2027-01-01T00:00:00.000Z';
    retrain.attachments = { 'model-card.md': '# another card\n' };
    expect(await compareWithRegistry(registry, 'telco-churn', retrain)).toEqual({ identical: { version: '1.0.0', digest }, latest: { version: '1.0.0', changes: [] } });
  });

  it('lists what changed against the latest version: files, threshold, algorithm, signature', async () => {
    const registry = await mkdtemp(join(tmpdir(), 'changes-'));
    await publishVersion(registry, createTestContents('1.0.0'));
    const retrain = createTestContents('1.1.0');
    retrain.manifest.threshold = 0.25;
    retrain.manifest.algorithm = { ...retrain.manifest.algorithm, name: 'bagged-trees' };
    retrain.calibration = { format: CALIBRATION_FORMAT, method: 'clip', epsilon: 0.001 };
    const tree = retrain.model as DecisionTreeParameters;
    retrain.model = { ...tree, nodes: [tree.nodes[0]!, { distribution: [0.8, 0.2] }, tree.nodes[2]!] };
    retrain.manifest.signature = { ...retrain.manifest.signature, inputs: retrain.manifest.signature.inputs.slice(0, -1) };
    const comparison = await compareWithRegistry(registry, 'telco-churn', retrain);
    expect(comparison.identical).toBeUndefined();
    expect(comparison.latest).toEqual({
      version: '1.0.0',
      changes: ['algorithm decision-tree → bagged-trees', 'model.json changed', 'calibration.json added', 'threshold 0.3000 → 0.2500', 'input signature changed'],
    });
  });
});
