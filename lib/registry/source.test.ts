import { createServer } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestContents } from '../../tests/fixtures.ts';
import { getClosedPort, startStaticServer } from '../../tests/static-server.ts';
import { createByteBudget } from './download.ts';
import { createRegistrySource, loadTrustedVersion } from './load.ts';
import { promoteVersion, publishVersion, loadVersion } from './registry.ts';
import { createDirectorySource, createHttpSource } from './source.ts';

let root: string;
let digest: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'registry-http-'));
  digest = (await publishVersion(root, createTestContents('1.0.0'))).digest;
  await promoteVersion(root, 'telco-churn', 'production', '1.0.0');
});

const readAliasesText = async (url: string, options = {}) => new TextDecoder().decode(await createHttpSource(url, options).readAliases('telco-churn'));

/** A real server on another origin that redirects every request to `target` (a CDN in front of a registry, or an attacker). */
async function startRedirector(target: string) {
  const server = createServer((request, response) => response.writeHead(302, { location: new URL(request.url!.slice(1), target).href }).end());
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise<void>((done) => server.close(() => done())) };
}

describe('registry sources', () => {
  it('loads and verifies a version by alias from a real HTTP static server', async () => {
    const server = await startStaticServer(root);
    try {
      const loaded = await loadVersion(createRegistrySource(server.url), 'telco-churn', 'production');
      expect(loaded.digest).toBe(digest);
      expect(server.requests).toContain('/telco-churn/aliases.json');
      expect(server.requests).toContain('/telco-churn/1.0.0/model.json');
    } finally {
      await server.close();
    }
  });

  it('retries transient HTTP failures a bounded number of times', async () => {
    const server = await startStaticServer(root, { failFirst: 2 });
    try {
      expect(await readAliasesText(server.url, { retries: 2, backoffMs: 1 })).toContain('production');
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('gives up after the retries on a server that keeps failing, and at once on a 404', async () => {
    const server = await startStaticServer(root, { failFirst: 100 });
    try {
      await expect(readAliasesText(server.url, { retries: 2, backoffMs: 1 })).rejects.toThrow(
        /unreachable at http:\/\/127.0.0.1:\d+\/telco-churn\/aliases.json after 3 attempts \(HTTP 503\)/,
      );
    } finally {
      await server.close();
    }
    const healthy = await startStaticServer(root);
    try {
      const files = await createHttpSource(healthy.url, { retries: 2, backoffMs: 1 }).openVersion('telco-churn', '9.9.9');
      await expect(files.read('manifest.json', createByteBudget(1024))).rejects.toMatchObject({ notFound: true });
      expect(healthy.requests).toHaveLength(1);
    } finally {
      await healthy.close();
    }
  });

  it('reports an unreachable registry after its retries', async () => {
    const port = await getClosedPort();
    await expect(readAliasesText(`http://127.0.0.1:${port}`, { retries: 1, backoffMs: 1 })).rejects.toThrow(/after 2 attempts/);
  });

  it('follows an HTTP registry’s redirect to another origin only for pinned content', async () => {
    const server = await startStaticServer(root);
    const redirector = await startRedirector(server.url);
    try {
      await expect(loadVersion(createRegistrySource(redirector.url), 'telco-churn', '1.0.0')).rejects.toThrow(
        `redirects to another origin (${new URL(server.url).origin}); not followed for content that is not pinned by a digest`,
      );
      expect(server.requests).toEqual([]);
      const pinned = await loadTrustedVersion({ location: redirector.url, name: 'telco-churn', reference: '1.0.0', digest });
      expect(pinned.digest).toBe(digest);
    } finally {
      await redirector.close();
      await server.close();
    }
  });

  it('caps what a version may download, summed over its files', async () => {
    const server = await startStaticServer(root);
    try {
      await expect(loadTrustedVersion({ location: server.url, name: 'telco-churn', reference: '1.0.0', digest, maxBytes: 4096 })).rejects.toThrow(
        /declares .* more than the .* left of the 4 KiB download limit; refused before reading it|passes the download limit of 4 KiB/,
      );
    } finally {
      await server.close();
    }
  });

  it('says which level is missing in a registry directory', async () => {
    await expect(loadVersion(createDirectorySource('/nonexistent'), 'telco-churn', 'production')).rejects.toThrow('/nonexistent: registry directory does not exist');
    await expect(loadVersion(createDirectorySource(root), 'other-model', 'production')).rejects.toThrow(`other-model/aliases.json: not found: the registry ${root} has no model other-model`);
    await expect(loadVersion(createDirectorySource(root), 'telco-churn', '2.0.0')).rejects.toThrow(`telco-churn/2.0.0/manifest.json: not found: telco-churn has no version 2.0.0 in ${root}`);
  });

  it('refuses paths that could leave the registry', async () => {
    const files = await createDirectorySource(root).openVersion('telco-churn', '..');
    await expect(files.read('etc/passwd', createByteBudget(1024))).rejects.toThrow('is not a plain relative registry path');
  });
});
