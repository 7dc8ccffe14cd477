import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestContents } from '../../tests/fixtures.ts';
import { getClosedPort, startStaticServer } from '../../tests/static-server.ts';
import { promoteVersion, publishVersion, loadVersion } from './registry.ts';
import { createDirectorySource, createHttpSource, createRegistrySource } from './source.ts';

let root: string;
let digest: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'registry-http-'));
  digest = (await publishVersion(root, createTestContents('1.0.0'))).digest;
  await promoteVersion(root, 'telco-churn', 'production', '1.0.0');
});

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
      const bytes = await createHttpSource(server.url, { retries: 2, backoffMs: 1 }).read('telco-churn/aliases.json');
      expect(new TextDecoder().decode(bytes)).toContain('production');
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('gives up after the retries on a server that keeps failing, and at once on a 404', async () => {
    const server = await startStaticServer(root, { failFirst: 100 });
    try {
      await expect(createHttpSource(server.url, { retries: 2, backoffMs: 1 }).read('telco-churn/aliases.json')).rejects.toThrow(
        /unreachable at http:\/\/127.0.0.1:\d+\/telco-churn\/aliases.json after 3 attempts \(HTTP 503\)/,
      );
    } finally {
      await server.close();
    }
    const healthy = await startStaticServer(root);
    try {
      await expect(createHttpSource(healthy.url, { retries: 2, backoffMs: 1 }).read('telco-churn/9.9.9/manifest.json')).rejects.toMatchObject({ notFound: true });
      expect(healthy.requests).toHaveLength(1);
    } finally {
      await healthy.close();
    }
  });

  it('reports an unreachable registry after its retries', async () => {
    const port = await getClosedPort();
    await expect(createHttpSource(`http://127.0.0.1:${port}`, { retries: 1, backoffMs: 1 }).read('telco-churn/aliases.json')).rejects.toThrow(
      /after 2 attempts/,
    );
  });

  it('refuses paths that could leave the registry', async () => {
    await expect(createDirectorySource(root).read('../etc/passwd')).rejects.toThrow('is not a plain relative registry path');
  });
});
