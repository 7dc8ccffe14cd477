import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestContents } from '../../tests/fixtures.ts';
import { ARTIFACT_FORMAT, MANIFEST_FILE, MODEL_FILE, computeDigest, createArtifactPredictor, readArtifact, writeArtifact, type ArtifactContents } from './artifact.ts';
import { CALIBRATION_FILE, CALIBRATION_FORMAT, type Calibration } from './calibration.ts';
import type { BaggedTreesParameters, DecisionTreeParameters } from './predictor.ts';

const write = async (contents: ArtifactContents) => {
  const dir = join(await mkdtemp(join(tmpdir(), 'artifact-')), contents.manifest.version);
  await writeArtifact(dir, contents);
  return dir;
};
const read = (dir: string) => readArtifact((name) => readFile(join(dir, name)));

/** Rewrite a file of a written version and the manifest's digest of it, as a writer of another layout would. */
async function rewrite(dir: string, file: string, edit: (text: string) => string): Promise<void> {
  const path = join(dir, file);
  await chmod(path, 0o644);
  const text = edit(await readFile(path, 'utf8'));
  await writeFile(path, text);
  if (file === MANIFEST_FILE) return;
  const manifestPath = join(dir, MANIFEST_FILE);
  await chmod(manifestPath, 0o644);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { files: Record<string, string> };
  manifest.files[file] = computeDigest(text);
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
}

const platt: Calibration = { format: CALIBRATION_FORMAT, method: 'platt', epsilon: 0.001, slope: 1.2, intercept: -0.3 };

function createForestContents(version: string): ArtifactContents {
  const contents = createTestContents(version);
  const tree = contents.model as DecisionTreeParameters;
  const other: DecisionTreeParameters['nodes'] = [{ feature: 4, threshold: 12.5, left: 1, right: 2 }, { distribution: [0.5, 0.5] }, { distribution: [0.875, 0.125] }];
  const model: BaggedTreesParameters = { type: 'bagged-trees', classes: tree.classes, featureCount: tree.featureCount, trees: [tree.nodes, other] };
  return { ...contents, manifest: { ...contents.manifest, algorithm: { ...contents.manifest.algorithm, name: 'bagged-trees' } }, model, calibration: platt };
}

describe('the model artifact', () => {
  it(`writes ${ARTIFACT_FORMAT} with bagged trees one tree per line and the calibration hashed in the manifest, and reads both back`, async () => {
    const contents = createForestContents('1.1.0');
    const dir = await write(contents);
    const modelText = await readFile(join(dir, MODEL_FILE), 'utf8');
    expect(modelText.split('\n').filter((line) => line.startsWith('    [{'))).toHaveLength(2);
    const artifact = await read(dir);
    expect(artifact.manifest.format).toBe('churn-model/2');
    expect(artifact.manifest.files[CALIBRATION_FILE]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(artifact.model).toEqual(contents.model);
    expect(artifact.calibration).toEqual(platt);
  });

  it('scores through the calibration: one scorer for serving, the gate and training', async () => {
    const artifact = await read(await write(createForestContents('1.1.0')));
    const vector = new Float64Array(artifact.encoding.columns.length);
    const raw = createArtifactPredictor({ ...artifact, calibration: undefined }).predictProbability(vector, 0);
    const served = createArtifactPredictor(artifact).predictProbability(vector, 0);
    expect(served).toBeCloseTo(1 / (1 + Math.exp(-(1.2 * Math.log(raw / (1 - raw)) - 0.3))), 15);
  });

  it('refuses a manifest in a format it does not know, naming the format and the ones it reads', async () => {
    const dir = await write(createTestContents('1.1.0'));
    await rewrite(dir, MANIFEST_FILE, (text) => text.replace('"churn-model/2"', '"churn-model/3"'));
    await expect(read(dir)).rejects.toThrow(
      'manifest.json: format "churn-model/3" is not supported: this reader knows churn-model/1 and churn-model/2; a version in a newer format needs a newer server',
    );
  });

  it('refuses bagged trees or a calibration in a version that claims churn-model/1', async () => {
    const forest = await write(createForestContents('1.1.0'));
    await rewrite(forest, MANIFEST_FILE, (text) => text.replace('"churn-model/2"', '"churn-model/1"'));
    await expect(read(forest)).rejects.toThrow('model.json: bagged trees need churn-model/2, the manifest says churn-model/1');
    const calibrated = await write({ ...createTestContents('1.1.0'), calibration: platt });
    await rewrite(calibrated, MANIFEST_FILE, (text) => text.replace('"churn-model/2"', '"churn-model/1"'));
    await expect(read(calibrated)).rejects.toThrow('calibration.json: needs churn-model/2, the manifest says churn-model/1');
  });

  it('refuses a calibration that does not parse or whose isotonic points do not ascend, even with matching digests', async () => {
    const dir = await write({ ...createTestContents('1.1.0'), calibration: platt });
    await rewrite(dir, CALIBRATION_FILE, (text) => text.replace('"platt"', '"beta"'));
    await expect(read(dir)).rejects.toThrow(/^calibration\.json: does not match churn-model\/2 at method/);
    const isotonic: Calibration = { format: CALIBRATION_FORMAT, method: 'isotonic', epsilon: 0.001, scores: [0.2, 0.1], probabilities: [0.1, 0.2] };
    await expect(read(await write({ ...createTestContents('1.1.0'), calibration: isotonic }))).rejects.toThrow('calibration.json: scores are not strictly ascending at 1');
  });

  it('reads the committed churn-model/1 version 1.0.0 without a calibration, so it serves its tree as before', async () => {
    const artifact = await readArtifact((name) => readFile(join('model-registry', 'telco-churn', '1.0.0', name)));
    expect(artifact.manifest.format).toBe('churn-model/1');
    expect(artifact.calibration).toBeUndefined();
    expect(artifact.model.type).toBe('decision-tree');
  });
});
