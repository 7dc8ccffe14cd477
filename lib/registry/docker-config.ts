import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryError } from './errors.ts';

/** A user name and password (or token) for one registry host. */
export interface Credentials {
  username: string;
  password: string;
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

/** `https://ghcr.io/v1/`, `ghcr.io` and `http://ghcr.io` all name the host `ghcr.io`; Docker Hub has several names. */
function getHostKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!.toLowerCase();
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host) ? 'docker.io' : host;
}

/**
 * Read the credentials for `host` (`host[:port]`) from `<dir>/config.json`, the Docker client's
 * file and what a `kubernetes.io/dockerconfigjson` Secret holds: `auths.<host>.auth` (base64 of
 * `user:password`) or `auths.<host>.username` and `password`. Undefined when the directory, the
 * file or the host's entry is missing (anonymous access). Credential helpers cannot run in a
 * server: a host whose secret is kept by one is an error that says so.
 */
export async function readDockerCredentials(dir: string | undefined, host: string): Promise<Credentials | undefined> {
  if (dir === undefined) return undefined;
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RegistryError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let config: { auths?: Record<string, AuthEntry>; credsStore?: unknown; credHelpers?: Record<string, unknown> };
  try {
    config = JSON.parse(text) as typeof config;
  } catch {
    throw new RegistryError(path, 'is not valid JSON');
  }
  const wanted = getHostKey(host);
  const entry = Object.entries(config.auths ?? {}).find(([key]) => getHostKey(key) === wanted)?.[1];
  if (entry !== undefined) {
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new RegistryError(path, `auths entry for ${host}: auth is not base64 of user:password`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
    if (entry.identitytoken !== undefined) throw new RegistryError(path, `auths entry for ${host}: identity tokens are not supported; give auth or username and password`);
  }
  // A host named in credHelpers, or an empty auths entry beside a credsStore, means the secret is in a helper.
  const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => getHostKey(key) === wanted)?.[1] ?? (entry === undefined ? undefined : config.credsStore);
  if (typeof helper === 'string' && helper !== '') {
    throw new RegistryError(path, `keeps the credentials for ${host} in the credential helper "${helper}", which a server cannot run; put them in auths`);
  }
  return undefined;
}
