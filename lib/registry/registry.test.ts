import { chmod, mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTestContents, TEST_SIGNATURE } from '../../tests/fixtures.ts';
import { createDirectorySource } from './source.ts';
import { getNextVersion, listVersions, loadVersion, promoteVersion, publishVersion, rollbackAlias, verifyRegistry } from './registry.ts';

let root: string;
const name = 'telco-churn';

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'registry-'));
});

async function tamper(path: string, edit: (text: string) => string) {
  await chmod(path, 0o644);
  await writeFile(path, edit(await readFile(path, 'utf8')));
}

describe('publishing', () => {
  it('publishes a verifiable version and refuses to publish the same version again', async () => {
    const { digest } = await publishVersion(root, createTestContents('1.0.0'));
    expect(await verifyRegistry(root)).toEqual([]);
    const loaded = await loadVersion(createDirectorySource(root), name, '1.0.0', { digest });
    expect(loaded.manifest.files['model.json']).toMatch(/^sha256:[0-9a-f]{64}$/);
    await expect(publishVersion(root, createTestContents('1.0.0'))).rejects.toThrow('already exists: published versions are immutable');
  });

  it('bumps the minor version for a compatible signature and the major version for a breaking one', async () => {
    expect((await getNextVersion(root, name, TEST_SIGNATURE)).version).toBe('1.0.0');
    await publishVersion(root, createTestContents('1.0.0'));
    expect((await getNextVersion(root, name, TEST_SIGNATURE)).version).toBe('1.1.0');
    const withoutGender = { ...TEST_SIGNATURE, inputs: TEST_SIGNATURE.inputs.filter((input) => input.name !== 'female') };
    expect(await getNextVersion(root, name, withoutGender)).toEqual({ version: '2.0.0', reasons: ['female: input removed'] });
  });
});

describe('aliases and history', () => {
  it('promotes, rolls back along the history, and refuses to roll back past the first promotion', async () => {
    await publishVersion(root, createTestContents('1.0.0'));
    await publishVersion(root, createTestContents('1.1.0'));
    await publishVersion(root, createTestContents('1.2.0'));
    await promoteVersion(root, name, 'production', '1.0.0');
    await promoteVersion(root, name, 'production', '1.1.0');
    await promoteVersion(root, name, 'staging', '1.2.0');
    await promoteVersion(root, name, 'production', '1.2.0');
    expect((await rollbackAlias(root, name, 'production')).version).toBe('1.1.0');
    expect((await rollbackAlias(root, name, 'production')).version).toBe('1.0.0');
    await expect(rollbackAlias(root, name, 'production')).rejects.toThrow('has no earlier version of alias production');
    const aliases = JSON.parse(await readFile(join(root, name, 'aliases.json'), 'utf8'));
    expect(aliases.production.version).toBe('1.0.0');
    expect(aliases.staging.version).toBe('1.2.0');
    expect((await listVersions(root, name)).map((v) => [v.version, v.aliases])).toEqual([
      ['1.0.0', ['production']],
      ['1.1.0', []],
      ['1.2.0', ['staging']],
    ]);
    const history = (await readFile(join(root, name, 'history.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(history.map((event) => event.event)).toEqual(['publish', 'publish', 'publish', 'promote', 'promote', 'promote', 'promote', 'rollback', 'rollback']);
    expect(await verifyRegistry(root)).toEqual([]);
  });

  it('refuses to promote an unpublished version or to use a version as an alias name', async () => {
    await publishVersion(root, createTestContents('1.0.0'));
    await expect(promoteVersion(root, name, 'production', '9.9.9')).rejects.toThrow('is not a published version');
    await expect(promoteVersion(root, name, '1.0.0', '1.0.0')).rejects.toThrow('is not a valid alias name');
  });

  it('resolves an alias to the digest it was promoted with', async () => {
    const { digest } = await publishVersion(root, createTestContents('1.0.0'));
    await promoteVersion(root, name, 'production', '1.0.0');
    const loaded = await loadVersion(createDirectorySource(root), name, 'production');
    expect(loaded.digest).toBe(digest);
    await expect(loadVersion(createDirectorySource(root), name, 'production', { digest: `sha256:${'b'.repeat(64)}` })).rejects.toThrow(
      `alias production records ${digest}, not the pinned sha256:${'b'.repeat(64)}`,
    );
  });
});

describe('verifying', () => {
  beforeEach(async () => {
    await publishVersion(root, createTestContents('1.0.0'));
    await promoteVersion(root, name, 'production', '1.0.0');
  });

  it.each([
    ['model.json', /telco-churn\/1.0.0: model.json: digest sha256:\w+ does not match the manifest's/],
    ['model-card.md', /telco-churn\/1.0.0: model-card.md: digest/],
    ['manifest.json', /telco-churn\/1.0.0: manifest.json: digest sha256:\w+ does not match the expected/],
  ])('reports one changed byte in %s', async (file, problem) => {
    await tamper(join(root, name, '1.0.0', file), (text) => text.replace('0.', '1.'));
    const problems = await verifyRegistry(root);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });

  it('reports an added file, an unpublished version and a rewritten history or alias table', async () => {
    await writeFile(join(root, name, '1.0.0', 'extra.bin'), 'x');
    await mkdir(join(root, name, '3.0.0'));
    await tamper(join(root, name, 'aliases.json'), (text) => text.replace('1.0.0', '1.1.0'));
    expect(await verifyRegistry(root)).toEqual([
      'telco-churn/aliases.json: does not match the history',
      'telco-churn/3.0.0: not a published version (no publish event)',
      'telco-churn/1.0.0/extra.bin: not listed in the manifest',
    ]);
    await tamper(join(root, name, 'history.jsonl'), (text) => text.replace('"at":"2', '"at":"1'));
    expect(await verifyRegistry(root)).toEqual(['telco-churn: history.jsonl line 2 does not chain to line 1: an earlier line was changed']);
  });
});
