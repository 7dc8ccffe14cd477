import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushVersion } from '../lib/registry/oci-transfer.ts';
import { publishVersion } from '../lib/registry/registry.ts';
import { createTestContents } from './fixtures.ts';
import { publishAbsentVersion } from './absent-version.ts';
import { startCuttingProxy } from './cutting-proxy.ts';
import { findOciTools, pushWithCiScript, runOras, startRegistry, type RunningRegistry } from './oci-registry.ts';
import { spawnServer, startServer } from './server-process.ts';
import { getClosedPort } from './static-server.ts';

const tools = findOciTools();
const name = 'telco-churn';
const customer = JSON.parse(readFileSync('chart/files/predict-request.json', 'utf8')) as { instances: unknown[] };

describe.skipIf(tools === undefined)('the server pulling its model from an OCI registry at cold start', () => {
  let registry: RunningRegistry;
  let absent: { version: string; digest: string; ociDigest: string };

  beforeAll(async () => {
    registry = await startRegistry(tools!);
    const root = await mkdtemp(join(tmpdir(), 'oci-server-'));
    const published = await publishAbsentVersion(root);
    expect(existsSync(`model-registry/${name}/${published.version}`)).toBe(false);
    const pushed = pushWithCiScript(tools!, join(root, name, published.version), `${registry.host}/models/${name}:${published.version}`, { name, ...published });
    absent = { ...published, ociDigest: pushed['oci-digest']! };
  });

  afterAll(async () => {
    await registry?.stop();
  });

  const env = (extra: Record<string, string> = {}) => ({ MODEL_REGISTRY: registry.location, MODEL_REGISTRY_PLAIN_HTTP: 'true', MODEL_VERSION: absent.version, ...extra });

  it('serves a version the image does not hold, pushed by oras, pinned and verified, and reports the load phases', async () => {
    const server = await startServer(env({ MODEL_VERSION: `${absent.version}@${absent.ociDigest}`, MODEL_DIGEST: absent.digest }));
    try {
      const answer = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(customer) });
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { model: unknown }).model).toEqual({ name, version: absent.version });
      const health = (await (await fetch(`${server.url}/health`)).json()) as Record<string, any>;
      expect(health.model).toMatchObject({ version: absent.version, digest: absent.digest, ociDigest: absent.ociDigest, source: `oci://${registry.host}/models/${name}@${absent.ociDigest}` });
      expect(Object.keys(health.model.loadPhases)).toEqual(['resolve', 'download', 'verify', 'compile', 'warmup']);
      expect(health.model.loadPhases.download).toBeGreaterThan(0);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      for (const phase of ['resolve', 'download', 'verify', 'compile', 'warmup']) expect(metrics).toMatch(new RegExp(`^churn_model_load_phase_seconds\\{phase="${phase}"\\} [0-9.e-]+$`, 'm'));
      const ready = server.lines.find((line) => line.msg === 'ready')!;
      expect(ready).toMatchObject({ ociDigest: absent.ociDigest, version: absent.version });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('refuses unpinned content at start, saying how to pin it', async () => {
    const { exited, lines } = spawnServer(env());
    expect(await exited).toBe(1);
    const failure = lines.find((line) => line.msg.startsWith('model load failed'))!;
    expect(failure.error).toContain(`oras manifest fetch --descriptor ${registry.host}/models/${name}:${absent.version}`);
    expect(failure.hint).toBe(`set MODEL_DIGEST=sha256:<digest of manifest.json> or MODEL_VERSION=${absent.version}@sha256:<OCI manifest digest>`);
  });

  it('refuses a tag moved to other content, naming both digests', async () => {
    const genuine = await mkdtemp(join(tmpdir(), 'oci-genuine-'));
    const forged = await mkdtemp(join(tmpdir(), 'oci-forged-'));
    await publishVersion(genuine, createTestContents(absent.version));
    const contents = createTestContents(absent.version);
    contents.manifest.threshold = 0.99;
    const forgedDigest = (await publishVersion(forged, contents)).digest;
    await pushVersion(genuine, name, absent.version, `oci://${registry.host}/moved`, { plainHttp: true });
    // Someone moves the tag with a plain oras push (the registry allows it; only the project's pushes refuse).
    const dir = join(forged, name, absent.version);
    runOras(tools!, ['push', '--plain-http', `${registry.host}/moved/${name}:${absent.version}`, '--artifact-type', 'application/vnd.telco-churn.model.v1', ...(await readdir(dir))], { cwd: dir });
    const { exited, lines } = spawnServer(env({ MODEL_REGISTRY: `oci://${registry.host}/moved`, MODEL_DIGEST: absent.digest }));
    expect(await exited).toBe(1);
    expect(lines.find((line) => line.msg.startsWith('model load failed'))?.error).toBe(`manifest.json: digest ${forgedDigest} does not match the expected ${absent.digest}`);
  });

  it('gives up on a registry that is down after bounded retries, exiting 1 and naming it', async () => {
    const port = await getClosedPort();
    const started = performance.now();
    const { exited, lines } = spawnServer(env({ MODEL_REGISTRY: `oci://127.0.0.1:${port}/models`, MODEL_DIGEST: absent.digest }));
    expect(await exited).toBe(1);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(lines.find((line) => line.msg.startsWith('model load failed'))?.error).toBe(
      `oci://127.0.0.1:${port}/models/${name}:${absent.version}: unreachable at http://127.0.0.1:${port}/v2/models/${name}/manifests/${absent.version} after 4 attempts (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });

  it('downloads a blob again when the connection drops in the middle of it, and serves the verified version', async () => {
    const proxy = await startCuttingProxy(registry.host, { pattern: /^GET \/v2\/\S+\/blobs\/sha256:/, afterBytes: 600, cutCount: 2 });
    try {
      const server = await startServer(env({ MODEL_REGISTRY: `oci://${proxy.host}/models`, MODEL_VERSION: `${absent.version}@${absent.ociDigest}`, MODEL_DIGEST: absent.digest }));
      try {
        // Blobs download in parallel, so requests already under way when the second cut came may be cut too.
        expect(proxy.cuts()).toBeGreaterThanOrEqual(2);
        const answer = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(customer) });
        expect(answer.status).toBe(200);
        expect(((await answer.json()) as { model: unknown }).model).toEqual({ name, version: absent.version });
      } finally {
        expect(await server.stop()).toBe(0);
      }
    } finally {
      await proxy.stop();
    }
  });

  it('gives up on a registry that keeps dropping a download, exiting 1 and saying so', async () => {
    const proxy = await startCuttingProxy(registry.host, { pattern: /^GET \/v2\/\S+\/blobs\/sha256:/, afterBytes: 600, cutCount: 1000 });
    try {
      const { exited, lines } = spawnServer(env({ MODEL_REGISTRY: `oci://${proxy.host}/models`, MODEL_VERSION: `${absent.version}@${absent.ociDigest}`, MODEL_DIGEST: absent.digest }));
      expect(await exited).toBe(1);
      expect(lines.find((line) => line.msg.startsWith('model load failed'))?.error).toMatch(/^[\w.-]+: connection lost while downloading, 4 attempts \(other side closed\)$/);
    } finally {
      await proxy.stop();
    }
  });

  it('reads the registry’s credentials from DOCKER_CONFIG', async () => {
    const dockerConfig = await mkdtemp(join(tmpdir(), 'docker-config-'));
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ credHelpers: { [registry.host]: 'gcloud' } }));
    const { exited, lines } = spawnServer(env({ MODEL_DIGEST: absent.digest, DOCKER_CONFIG: dockerConfig }));
    expect(await exited).toBe(1);
    expect(lines.find((line) => line.msg.startsWith('model load failed'))?.error).toContain(`keeps the credentials for ${registry.host} in the credential helper "gcloud"`);
  });
});
