// Publishes a fixture version that the committed registry (and so the image) does not hold, for tests that must
// prove a version is served from a remote registry: `node tests/absent-version.ts DIR` prints "<version> <digest>".
import { readdir } from 'node:fs/promises';
import { compareVersions, isVersion, publishVersion } from '../lib/registry/registry.ts';
import { createTestContents } from './fixtures.ts';

/** The next major version after every version of the committed registry, e.g. 2.0.0 while it holds 1.x. */
export async function getAbsentVersion(committed = 'model-registry/telco-churn'): Promise<string> {
  const versions = (await readdir(committed)).filter(isVersion).sort(compareVersions);
  const latest = versions.at(-1) ?? '0.0.0';
  return `${Number(latest.split('.')[0]) + 1}.0.0`;
}

/** Publish the fixture model under a version the committed registry does not hold into `root`. */
export async function publishAbsentVersion(root: string): Promise<{ version: string; digest: string }> {
  const version = await getAbsentVersion();
  const { digest } = await publishVersion(root, createTestContents(version));
  return { version, digest };
}

if (import.meta.main) {
  const root = process.argv[2];
  if (root === undefined) throw new Error('usage: node tests/absent-version.ts REGISTRY_DIR');
  const { version, digest } = await publishAbsentVersion(root);
  process.stdout.write(`${version} ${digest}\n`);
}
