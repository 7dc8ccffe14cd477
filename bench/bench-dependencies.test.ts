import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installBenchDependencies, isInstalled } from './bench-dependencies.ts';

/** A project with one local dependency, so `npm ci` installs something without a registry. */
async function writeProject(dir: string, version: string): Promise<void> {
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', devDependencies: { dep: 'file:dep' } }));
  await writeFile(join(dir, 'dep', 'package.json'), JSON.stringify({ name: 'dep', version }));
  const lock = {
    name: 'p', version: '1.0.0', lockfileVersion: 3, requires: true,
    packages: {
      '': { name: 'p', version: '1.0.0', devDependencies: { dep: 'file:dep' } },
      dep: { version, dev: true },
      'node_modules/dep': { resolved: 'dep', link: true },
    },
  };
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock));
}

describe('installBenchDependencies', () => {
  let dir: string;
  const lines: string[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-deps-'));
    await mkdir(join(dir, 'dep'));
    lines.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('installs with npm ci on first use, then does nothing until the lockfile changes', async () => {
    await writeProject(dir, '1.0.0');
    expect(await isInstalled(dir)).toBe(false);
    expect(await installBenchDependencies(dir, (line) => lines.push(line))).toBe('installed');
    expect(JSON.parse(await readFile(join(dir, 'node_modules', 'dep', 'package.json'), 'utf8')).version).toBe('1.0.0');
    expect(lines[0]).toContain(`npm ci --prefix ${dir} --ignore-scripts`);

    expect(await installBenchDependencies(dir, (line) => lines.push(line))).toBe('up to date');
    expect(lines).toHaveLength(1);

    await writeProject(dir, '1.0.1');
    expect(await isInstalled(dir)).toBe(false);
    expect(await installBenchDependencies(dir, (line) => lines.push(line))).toBe('installed');
    expect(await isInstalled(dir)).toBe(true);
  });

  it('fails, naming the folder, when npm ci fails', async () => {
    await writeProject(dir, '1.0.0');
    await writeFile(join(dir, 'package-lock.json'), '{"lockfileVersion": 3,');
    await expect(installBenchDependencies(dir, () => {})).rejects.toThrow(`npm ci --prefix ${dir} failed`);
    expect(await isInstalled(dir)).toBe(false);
  });
});
