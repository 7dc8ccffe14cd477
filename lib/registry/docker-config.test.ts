import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDockerCredentials } from './docker-config.ts';

async function writeConfig(config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'docker-config-'));
  await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

describe('reading registry credentials from a Docker config.json', () => {
  it('reads auths.<host>.auth, base64 of user:password, as a kubernetes.io/dockerconfigjson Secret holds it', async () => {
    const dir = await writeConfig({ auths: { 'ghcr.io': { auth: auth('bot', 'ghp_token:with:colons') } } });
    expect(await readDockerCredentials(dir, 'ghcr.io')).toEqual({ username: 'bot', password: 'ghp_token:with:colons' });
  });

  it('reads username and password, and matches the host whatever the key spells around it', async () => {
    const dir = await writeConfig({ auths: { 'https://127.0.0.1:5000/v1/': { username: 'ci', password: 'secret' } } });
    expect(await readDockerCredentials(dir, '127.0.0.1:5000')).toEqual({ username: 'ci', password: 'secret' });
    expect(await readDockerCredentials(dir, '127.0.0.1:5001')).toBeUndefined();
  });

  it('treats Docker Hub names as one host', async () => {
    const dir = await writeConfig({ auths: { 'https://index.docker.io/v1/': { auth: auth('me', 'pw') } } });
    expect(await readDockerCredentials(dir, 'registry-1.docker.io')).toEqual({ username: 'me', password: 'pw' });
  });

  it('means anonymous access when there is no directory, no file or no entry for the host', async () => {
    expect(await readDockerCredentials(undefined, 'ghcr.io')).toBeUndefined();
    expect(await readDockerCredentials(join(tmpdir(), 'no-such-docker-config'), 'ghcr.io')).toBeUndefined();
    expect(await readDockerCredentials(await writeConfig({ auths: {}, credsStore: 'desktop' }), 'ghcr.io')).toBeUndefined();
  });

  it('says why it cannot use a malformed file, a broken auth or a credential helper', async () => {
    await expect(readDockerCredentials(await writeConfig('{not json'), 'ghcr.io')).rejects.toThrow('config.json: is not valid JSON');
    await expect(readDockerCredentials(await writeConfig({ auths: { 'ghcr.io': { auth: 'bm9jb2xvbg==' } } }), 'ghcr.io')).rejects.toThrow('auth is not base64 of user:password');
    await expect(readDockerCredentials(await writeConfig({ credHelpers: { 'ghcr.io': 'gcloud' } }), 'ghcr.io')).rejects.toThrow(
      'keeps the credentials for ghcr.io in the credential helper "gcloud", which a server cannot run',
    );
    await expect(readDockerCredentials(await writeConfig({ auths: { 'ghcr.io': {} }, credsStore: 'desktop' }), 'ghcr.io')).rejects.toThrow('credential helper "desktop"');
  });
});
