// The stress test's load generator (artillery) has its own package.json and lockfile in bench/, out of the root
// install: it brings ~350 MB of cloud SDKs, Playwright and telemetry exporters that serving, building and testing
// never use. installBenchDependencies() installs them on first use, and again only when the lockfile changes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Written into node_modules after a successful install: the sha256 of the lockfile it installed. */
const MARKER_NAME = '.installed-lock-sha256';

/** The sha256 of a folder's package-lock.json. */
async function readLockDigest(dir: string): Promise<string> {
  return createHash('sha256').update(await readFile(join(dir, 'package-lock.json'))).digest('hex');
}

/** Whether `dir`/node_modules was installed from the lockfile as it is now. */
export async function isInstalled(dir: string): Promise<boolean> {
  const installed = await readFile(join(dir, 'node_modules', MARKER_NAME), 'utf8').catch(() => '');
  return installed.trim() === (await readLockDigest(dir));
}

/**
 * Install `dir`'s locked dependencies unless they are installed already: `npm ci --ignore-scripts` (no dependency
 * runs code at install; Playwright's would download a browser the HTTP scenario never uses). npm is the one running
 * the current npm script when there is one, so its Node is the node@24 devDependency's.
 */
export async function installBenchDependencies(dir: string, log: (line: string) => void): Promise<'installed' | 'up to date'> {
  if (await isInstalled(dir)) return 'up to date';
  const digest = await readLockDigest(dir);
  const npmCli = process.env['npm_execpath'];
  const [command, prefix] = npmCli ? [process.execPath, [npmCli]] : ['npm', []];
  const args = [...prefix, 'ci', '--prefix', dir, '--ignore-scripts', '--no-audit', '--no-fund'];
  log(`installing ${dir}/package-lock.json (npm ci --prefix ${dir} --ignore-scripts; once, about a minute)`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`npm ci --prefix ${dir} failed (exit ${code})`);
  // A lockfile without packages installs no node_modules folder at all.
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  await writeFile(join(dir, 'node_modules', MARKER_NAME), `${digest}\n`);
  return 'installed';
}
