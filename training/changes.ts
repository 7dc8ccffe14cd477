import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ENCODING_FILE, MANIFEST_FILE, MODEL_FILE, computeDigest, getArtifactFiles, parseManifest, type ArtifactContents, type Manifest } from '../lib/model/artifact.ts';
import { CALIBRATION_FILE } from '../lib/model/calibration.ts';
import { REFERENCE_FILE } from '../lib/model/reference.ts';
import { listVersions } from '../lib/registry/registry.ts';

/**
 * The files whose bytes decide what a version answers and reports to monitoring; together with the
 * manifest's threshold and input signature they are its parameters. The card, metrics and timestamps are not.
 */
export const PARAMETER_FILES = [MODEL_FILE, ENCODING_FILE, CALIBRATION_FILE, REFERENCE_FILE] as const;

/**
 * What a new version would change against a published one, judged by the digests its manifest records;
 * empty when its parameters are identical.
 */
export async function compareWithVersion(root: string, name: string, version: string, contents: ArtifactContents): Promise<string[]> {
  const dir = join(root, name, version);
  const manifest: Manifest = parseManifest(await readFile(join(dir, MANIFEST_FILE)));
  const files = getArtifactFiles(contents);
  const changes: string[] = [];
  if (manifest.algorithm.name !== contents.manifest.algorithm.name) changes.push(`algorithm ${manifest.algorithm.name} → ${contents.manifest.algorithm.name}`);
  for (const file of PARAMETER_FILES) {
    const before = manifest.files[file];
    const after = files[file] === undefined ? undefined : computeDigest(files[file]);
    if (before === after) continue;
    changes.push(before === undefined ? `${file} added` : after === undefined ? `${file} removed` : `${file} changed`);
  }
  if (manifest.threshold !== contents.manifest.threshold) changes.push(`threshold ${manifest.threshold.toFixed(4)} → ${contents.manifest.threshold.toFixed(4)}`);
  if (!isDeepStrictEqual(manifest.signature, contents.manifest.signature)) changes.push('input signature changed');
  return changes;
}

/** A retrain compared with the registry: the published version it reproduces, if any, and what it changes against the latest. */
export interface RetrainComparison {
  identical?: { version: string; digest: string };
  latest?: { version: string; changes: string[] };
}

/**
 * Compare a retrain with every published version of `name`: `identical` names the first (oldest) whose
 * parameters it reproduces byte for byte, `latest` lists what it changes against the newest version.
 */
export async function compareWithRegistry(root: string, name: string, contents: ArtifactContents): Promise<RetrainComparison> {
  const versions = await listVersions(root, name);
  const comparison: RetrainComparison = {};
  for (const [index, summary] of versions.entries()) {
    const changes = await compareWithVersion(root, name, summary.version, contents);
    if (changes.length === 0 && comparison.identical === undefined) comparison.identical = { version: summary.version, digest: summary.digest };
    if (index === versions.length - 1) comparison.latest = { version: summary.version, changes };
  }
  return comparison;
}
