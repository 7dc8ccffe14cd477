import { readFile } from 'node:fs/promises';
import type { ArtifactContents } from '../lib/model/artifact.ts';
import { createEncodingSpec } from '../lib/model/encoding.ts';
import { computeDriftReference } from '../lib/model/reference.ts';
import type { Signature } from '../lib/model/signature.ts';
import { loadVersion } from '../lib/registry/registry.ts';
import { createDirectorySource } from '../lib/registry/source.ts';
import { CUSTOMER_INPUTS, LABEL, readDataset } from '../training/dataset.ts';

/** The customer signature with plausible training ranges, for tests that need no training run. */
export const TEST_SIGNATURE: Signature = {
  inputs: CUSTOMER_INPUTS,
  output: { name: LABEL.name, classes: LABEL.classes, positiveClass: LABEL.positiveClass },
};

/** A small but complete version: a two-leaf tree on `contract=Month-to-month`, and a model card. */
export function createTestContents(version: string, signature: Signature = TEST_SIGNATURE): ArtifactContents {
  const encoding = createEncodingSpec(signature, { nullValues: { total_charges: 0 } });
  const contract = encoding.columns.findIndex((column) => column.kind === 'one-hot' && column.value === 'Month-to-month');
  return {
    manifest: {
      name: 'telco-churn',
      version,
      created: '2026-01-01T00:00:00.000Z',
      description: 'test model',
      algorithm: { name: 'decision-tree', library: 'ml-cart', libraryVersion: '2.1.1', hyperParameters: { maxDepth: 1 } },
      signature,
      threshold: 0.3,
      thresholdRule: 'test',
      metrics: {
        cv: { rocAucMean: 0.7, rocAucStd: 0.01, folds: 5 },
        test: { rocAuc: 0.7, accuracy: 0.7, precision: 0.5, recall: 0.6, f1: 0.55, brier: 0.2, confusion: { tp: 1, fp: 1, tn: 1, fn: 1 } },
        trainingBaseRate: 0.265,
      },
      data: { path: 'training/data/telco-churn.csv', sha256: `sha256:${'a'.repeat(64)}`, rows: 6000, trainRows: 4800, testRows: 1200 },
      training: { seed: 1, folds: 5, testFraction: 0.2, selectionRule: 'test' },
      source: { gitCommit: null, gitDirty: null },
      runtime: { node: 'v24' },
    },
    model: {
      type: 'decision-tree',
      classes: LABEL.classes,
      featureCount: encoding.columns.length,
      nodes: [{ feature: contract, threshold: 0.5, left: 1, right: 2 }, { distribution: [0.9, 0.1] }, { distribution: [0.55, 0.45] }],
    },
    encoding,
    attachments: { 'model-card.md': `# telco-churn ${version}\n` },
  };
}

/**
 * The committed 1.0.0 (published before drift references existed) with a drift reference computed from the real
 * training data: the same tree, threshold and card, for tests that need drift figures from a real model.
 */
export async function createReferencedTreeContents(): Promise<ArtifactContents> {
  const { manifest, model, encoding } = await loadVersion(createDirectorySource('model-registry'), 'telco-churn', '1.0.0');
  const { format, files, ...described } = manifest;
  const { instances } = await readDataset('training/data/telco-churn.csv');
  const card = await readFile(`model-registry/telco-churn/${manifest.version}/model-card.md`, 'utf8');
  return { manifest: described, model, encoding, reference: computeDriftReference(manifest.signature, instances), attachments: { 'model-card.md': card } };
}
