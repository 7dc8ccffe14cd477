import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createDirectorySource } from '../lib/registry/source.ts';
import { loadVersion, verifyRegistry } from '../lib/registry/registry.ts';

const run = promisify(execFile);

describe('npm run train', () => {
  it('trains, publishes a verifiable version, and reproduces the committed production model byte for byte', async () => {
    const registry = await mkdtemp(join(tmpdir(), 'train-'));
    const { stdout } = await run(process.execPath, ['training/train.ts', '--registry', registry, '--promote', 'staging']);
    expect(stdout).toMatch(/^published telco-churn 1\.0\.0 \(first version\)/m);
    expect(stdout).toMatch(/^staging -> 1\.0\.0$/m);
    expect(await verifyRegistry(registry)).toEqual([]);

    const trained = await loadVersion(createDirectorySource(registry), 'telco-churn', 'staging');
    expect(trained.manifest.metrics.test.rocAuc).toBeGreaterThanOrEqual(0.8);
    expect(trained.manifest.algorithm.library).toMatch(/^ml-(cart|naivebayes)$/);

    const production = await loadVersion(createDirectorySource('model-registry'), 'telco-churn', 'production');
    expect(trained.manifest.threshold).toBe(production.manifest.threshold);
    for (const file of ['model.json', 'encoding.json', 'calibration.json', 'reference.json']) {
      const fresh = await readFile(join(registry, 'telco-churn', '1.0.0', file));
      const committed = await readFile(join('model-registry', 'telco-churn', production.manifest.version, file));
      expect(fresh.equals(committed), `${file} differs from the committed production version`).toBe(true);
    }
  });
});
