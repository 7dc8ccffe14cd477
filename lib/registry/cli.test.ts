import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContents } from '../../tests/fixtures.ts';
import { findOciTools, runOras, startRegistry, type RunningRegistry } from '../../tests/oci-registry.ts';
import { publishVersion, verifyRegistry } from './registry.ts';

const tools = findOciTools();

/** Run the registry CLI as `npm run registry --` does; returns stdout, or throws with stderr. */
const runCli = (args: string[]) =>
  execFileSync(process.execPath, ['lib/registry/cli.ts', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', DOCKER_CONFIG: join(tmpdir(), 'no-docker-config') }, stdio: ['ignore', 'pipe', 'pipe'] });

describe.skipIf(tools === undefined)('the registry CLI against an OCI registry', () => {
  let registry: RunningRegistry;
  let root: string;
  let digest: string;

  beforeAll(async () => {
    registry = await startRegistry(tools!);
    root = await mkdtemp(join(tmpdir(), 'cli-'));
    digest = (await publishVersion(root, createTestContents('1.1.0'))).digest;
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('pushes a version, resolves both of its pins, and pulls it into another directory that verifies', async () => {
    const location = `oci://${registry.host}/models`;
    const pushed = runCli(['push', location, '1.1.0', '--registry', root, '--plain-http', '--annotation', 'org.opencontainers.image.revision=abc123']);
    const ociDigest = /@(sha256:[0-9a-f]{64})/.exec(pushed)![1]!;
    expect(pushed).toBe(`pushed ${registry.host}/models/telco-churn:1.1.0@${ociDigest} (model digest ${digest})\n`);
    expect(runCli(['resolve', '1.1.0', '--registry', location, '--plain-http'])).toBe(`1.1.0 ${digest} ${ociDigest}\n`);
    expect(JSON.parse(runOras(tools!, ['manifest', 'fetch', '--plain-http', `${registry.host}/models/telco-churn:1.1.0`])).annotations).toMatchObject({
      'org.opencontainers.image.revision': 'abc123',
      'vnd.telco-churn.model.digest': digest,
    });
    const into = await mkdtemp(join(tmpdir(), 'cli-pulled-'));
    expect(runCli(['pull', location, `1.1.0@${ociDigest}`, '--registry', into, '--plain-http', '--digest', digest])).toContain(`(model digest ${digest})`);
    expect(await verifyRegistry(into)).toEqual([]);
    expect(() => runCli(['pull', location, '1.1.0', '--registry', into, '--plain-http'])).toThrow(/already exists: published versions are immutable/);
  });
});
