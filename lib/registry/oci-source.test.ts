import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContents } from '../../tests/fixtures.ts';
import { findBlobFile, findOciTools, pushWithCiScript, runOras, startRegistry, type RunningRegistry } from '../../tests/oci-registry.ts';
import { getClosedPort } from '../../tests/static-server.ts';
import { startTokenServer } from '../../tests/token-server.ts';
import { UnpinnedError } from './errors.ts';
import { loadTrustedVersion } from './load.ts';
import { pullVersion, pushVersion } from './oci-transfer.ts';
import { publishVersion, verifyRegistry } from './registry.ts';

const tools = findOciTools();
const name = 'telco-churn';

/** A registry directory holding fixture versions, each published (and so pushable) with its digest. */
async function createLocalRegistry(versions: Record<string, (contents: ReturnType<typeof createTestContents>) => void> = {}) {
  const root = await mkdtemp(join(tmpdir(), 'oci-local-'));
  const digests: Record<string, string> = {};
  for (const [version, edit] of Object.entries(versions)) {
    const contents = createTestContents(version);
    edit(contents);
    digests[version] = (await publishVersion(root, contents)).digest;
  }
  return { root, digests };
}

/** A Docker config directory with credentials for `host`, as a dockerconfigjson Secret mounts it. */
async function writeDockerConfig(host: string, user: string, password: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'docker-config-'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
  return dir;
}

describe.skipIf(tools === undefined)('an OCI registry (CNCF Distribution) with the real oras CLI', () => {
  let registry: RunningRegistry;
  let local: Awaited<ReturnType<typeof createLocalRegistry>>;
  const committed = { version: '1.0.0', digest: '' };

  beforeAll(async () => {
    registry = await startRegistry(tools!);
    local = await createLocalRegistry({ '1.1.0': () => {}, '1.2.0': (c) => void (c.attachments['model-card.md'] = 'x'.repeat(2 * 1024 * 1024)) });
    committed.digest = `sha256:${execFileSync('sha256sum', ['model-registry/telco-churn/1.0.0/manifest.json'], { encoding: 'utf8' }).split(' ')[0]}`;
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('serves a version CI’s oras push published, pinned by its model digest or by its OCI manifest digest alone', async () => {
    const pushed = pushWithCiScript(tools!, 'model-registry/telco-churn/1.0.0', `${registry.host}/models/${name}:1.0.0`, { name, ...committed });
    expect(pushed.pushed).toBe('true');
    const byModelDigest = await loadTrustedVersion({ location: registry.location, name, reference: '1.0.0', digest: committed.digest, plainHttp: true });
    expect(byModelDigest.digest).toBe(committed.digest);
    expect(byModelDigest.ociDigest).toBe(pushed['oci-digest']);
    expect(byModelDigest.location).toBe(`oci://${registry.host}/models/${name}@${pushed['oci-digest']}`);
    for (const [file, bytes] of byModelDigest.files) expect(Buffer.from(bytes).equals(await readFile(`model-registry/telco-churn/1.0.0/${file}`))).toBe(true);
    const byOciDigest = await loadTrustedVersion({ location: registry.location, name, reference: '1.0.0', ociDigest: pushed['oci-digest'], plainHttp: true });
    expect(byOciDigest.digest).toBe(committed.digest);
    expect(Object.values(byOciDigest.phases).every((seconds) => seconds >= 0)).toBe(true);
    // Pushing again publishes nothing: the same digest is already there.
    expect(pushWithCiScript(tools!, 'model-registry/telco-churn/1.0.0', `${registry.host}/models/${name}:1.0.0`, { name, ...committed }).pushed).toBe('false');
  });

  it('pushes with the CLI in the layout oras pulls back byte for byte, and pulls what oras pushed into a directory that verifies', async () => {
    const result = await pushVersion(local.root, name, '1.1.0', `oci://${registry.host}/cli`, { plainHttp: true });
    expect(result).toMatchObject({ reference: `${registry.host}/cli/${name}:1.1.0`, digest: local.digests['1.1.0'], pushed: true });
    const out = await mkdtemp(join(tmpdir(), 'oras-pull-'));
    runOras(tools!, ['pull', '--plain-http', '-o', out, `${registry.host}/cli/${name}:1.1.0`]);
    const files = (await readdir(join(local.root, name, '1.1.0'))).sort();
    expect((await readdir(out)).sort()).toEqual(files);
    for (const file of files) expect(await readFile(join(out, file), 'utf8')).toBe(await readFile(join(local.root, name, '1.1.0', file), 'utf8'));
    const fetched = JSON.parse(runOras(tools!, ['manifest', 'fetch', '--plain-http', `${registry.host}/cli/${name}:1.1.0`]));
    expect(fetched.artifactType).toBe('application/vnd.telco-churn.model.v1');
    expect(fetched.annotations['vnd.telco-churn.model.digest']).toBe(local.digests['1.1.0']);

    const into = await mkdtemp(join(tmpdir(), 'pulled-'));
    const pulled = await pullVersion(registry.location, name, '1.0.0', into, { plainHttp: true, digest: committed.digest });
    expect(pulled.digest).toBe(committed.digest);
    expect(await verifyRegistry(into)).toEqual([]);
  });

  it('never republishes: an identical tag is left alone, other content under it is refused by the CLI and by CI’s script', async () => {
    expect((await pushVersion(local.root, name, '1.1.0', `oci://${registry.host}/cli`, { plainHttp: true })).pushed).toBe(false);
    const other = await createLocalRegistry({ '1.1.0': (c) => void (c.manifest.threshold = 0.4) });
    await expect(pushVersion(other.root, name, '1.1.0', `oci://${registry.host}/cli`, { plainHttp: true })).rejects.toThrow(
      `${registry.host}/cli/${name}:1.1.0: exists with model digest ${local.digests['1.1.0']}, not ${other.digests['1.1.0']}: a version is never republished`,
    );
    expect(() =>
      pushWithCiScript(tools!, join(other.root, name, '1.1.0'), `${registry.host}/cli/${name}:1.1.0`, { name, version: '1.1.0', digest: other.digests['1.1.0']! }),
    ).toThrow(/exists with model digest .* a version is never republished/);
  });

  it('refuses a tag moved to other content by the model digest; an OCI digest pin still gets the pinned content', async () => {
    const genuine = await createLocalRegistry({ '3.0.0': () => {} });
    const forged = await createLocalRegistry({ '3.0.0': (c) => void (c.manifest.threshold = 0.99) });
    const first = await pushVersion(genuine.root, name, '3.0.0', registry.location, { plainHttp: true });
    // Someone moves the tag with oras directly (the registry allows it; only our pushes refuse).
    runOras(tools!, ['push', '--plain-http', `${registry.host}/models/${name}:3.0.0`, '--artifact-type', 'application/vnd.telco-churn.model.v1', ...(await readdir(join(forged.root, name, '3.0.0'))).map((file) => `${file}:application/json`)], {
      cwd: join(forged.root, name, '3.0.0'),
    });
    await expect(loadTrustedVersion({ location: registry.location, name, reference: '3.0.0', digest: genuine.digests['3.0.0'], plainHttp: true })).rejects.toThrow(
      `manifest.json: digest ${forged.digests['3.0.0']} does not match the expected ${genuine.digests['3.0.0']}`,
    );
    const pinned = await loadTrustedVersion({ location: registry.location, name, reference: '3.0.0', ociDigest: first.ociDigest, plainHttp: true });
    expect(pinned.digest).toBe(genuine.digests['3.0.0']);
  });

  it('refuses a corrupted blob, naming the file and both digests', async () => {
    const version = await createLocalRegistry({ '4.0.0': () => {} });
    await pushVersion(version.root, name, '4.0.0', registry.location, { plainHttp: true });
    // The model card names its version, so its blob is this version's alone (blobs are shared by content).
    const card = join(version.root, name, '4.0.0', 'model-card.md');
    const blob = await findBlobFile(registry.storage, `sha256:${execFileSync('sha256sum', [card], { encoding: 'utf8' }).split(' ')[0]}`);
    const corrupted = await readFile(card);
    corrupted[corrupted.indexOf('4.0.0')] = '5'.charCodeAt(0);
    await chmod(blob, 0o644);
    await writeFile(blob, corrupted);
    await expect(loadTrustedVersion({ location: registry.location, name, reference: '4.0.0', digest: version.digests['4.0.0'], plainHttp: true })).rejects.toThrow(
      /^model-card\.md: has digest sha256:[0-9a-f]{64}, not the expected sha256:[0-9a-f]{64}: corrupted or tampered$/,
    );
  });

  it('refuses a version larger than the byte cap before reading the oversized blob', async () => {
    await pushVersion(local.root, name, '1.2.0', registry.location, { plainHttp: true });
    await expect(loadTrustedVersion({ location: registry.location, name, reference: '1.2.0', digest: local.digests['1.2.0'], plainHttp: true, maxBytes: 1024 * 1024 })).rejects.toThrow(
      /^model-card\.md: declares 2 MiB, more than the .* left of the 1 MiB download limit; refused before reading it$/,
    );
  });

  it('refuses unpinned content before sending a single request', async () => {
    const port = await getClosedPort();
    await expect(loadTrustedVersion({ location: `oci://127.0.0.1:${port}/models`, name, reference: '1.0.0', plainHttp: true })).rejects.toBeInstanceOf(UnpinnedError);
  });

  it('gives up on a registry that is down after bounded retries, naming it', async () => {
    const port = await getClosedPort();
    await expect(loadTrustedVersion({ location: `oci://127.0.0.1:${port}/models`, name, reference: '1.0.0', digest: committed.digest, plainHttp: true, retries: 2, backoffMs: 1 })).rejects.toThrow(
      `oci://127.0.0.1:${port}/models/${name}:1.0.0: unreachable at http://127.0.0.1:${port}/v2/models/${name}/manifests/1.0.0 after 3 attempts (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });

  it('follows a blob redirect to another origin (as GHCR sends blobs to its CDN) without the credentials', async () => {
    const seenByCdn: (string | undefined)[] = [];
    const upstream = `http://${registry.host}`;
    const cdn = createServer(async (request, response) => {
      seenByCdn.push(request.headers.authorization);
      const blob = await fetch(`${upstream}${request.url}`);
      response.writeHead(blob.status, { 'content-length': blob.headers.get('content-length') ?? '' }).end(Buffer.from(await blob.arrayBuffer()));
    });
    const front = createServer(async (request, response) => {
      if (request.headers.authorization !== 'Basic ' + Buffer.from('reader:secret').toString('base64')) {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="front"' }).end();
        return;
      }
      if (request.url!.includes('/blobs/')) {
        response.writeHead(307, { location: `http://127.0.0.1:${(cdn.address() as AddressInfo).port}${request.url}` }).end();
        return;
      }
      const answer = await fetch(`${upstream}${request.url}`, { headers: { accept: request.headers.accept ?? '*/*' } });
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' }).end(Buffer.from(await answer.arrayBuffer()));
    });
    await Promise.all([cdn, front].map((server) => new Promise<void>((done) => server.listen(0, '127.0.0.1', done))));
    const frontHost = `127.0.0.1:${(front.address() as AddressInfo).port}`;
    try {
      const loaded = await loadTrustedVersion({
        location: `oci://${frontHost}/models`,
        name,
        reference: '1.0.0',
        digest: committed.digest,
        plainHttp: true,
        dockerConfigDir: await writeDockerConfig(frontHost, 'reader', 'secret'),
      });
      expect(loaded.digest).toBe(committed.digest);
      expect(seenByCdn.length).toBeGreaterThanOrEqual(2);
      expect(seenByCdn.every((authorization) => authorization === undefined)).toBe(true);
    } finally {
      await Promise.all([cdn, front].map((server) => new Promise((done) => server.close(done))));
    }
  });
});

describe.skipIf(tools === undefined || tools.htpasswd === undefined)('an OCI registry with basic auth (htpasswd)', () => {
  let registry: RunningRegistry;
  let local: Awaited<ReturnType<typeof createLocalRegistry>>;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'htpasswd-'));
    const path = join(dir, 'htpasswd');
    await writeFile(path, execFileSync(tools!.htpasswd!, ['-Bbn', 'ci', 'correct horse'], { encoding: 'utf8' }));
    registry = await startRegistry(tools!, { auth: { kind: 'htpasswd', path } });
    local = await createLocalRegistry({ '1.1.0': () => {} });
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('pushes and serves with the credentials of a Docker config.json, and says what is missing without them', async () => {
    const dockerConfigDir = await writeDockerConfig(registry.host, 'ci', 'correct horse');
    await pushVersion(local.root, name, '1.1.0', registry.location, { plainHttp: true, dockerConfigDir });
    const loaded = await loadTrustedVersion({ location: registry.location, name, reference: '1.1.0', digest: local.digests['1.1.0'], plainHttp: true, dockerConfigDir });
    expect(loaded.digest).toBe(local.digests['1.1.0']);
    await expect(loadTrustedVersion({ location: registry.location, name, reference: '1.1.0', digest: local.digests['1.1.0'], plainHttp: true })).rejects.toThrow(
      'the registry asks for a user name and password (HTTP 401 Basic); give them in a Docker config.json (DOCKER_CONFIG)',
    );
    await expect(
      loadTrustedVersion({ location: registry.location, name, reference: '1.1.0', digest: local.digests['1.1.0'], plainHttp: true, dockerConfigDir: await writeDockerConfig(registry.host, 'ci', 'wrong') }),
    ).rejects.toThrow(`the registry refused the credentials for ${registry.host} (HTTP 401)`);
    // The real oras, logged in with the same credentials, reads what the CLI pushed.
    expect(runOras(tools!, ['manifest', 'fetch', '--plain-http', '-u', 'ci', '-p', 'correct horse', `${registry.host}/models/${name}:1.1.0`])).toContain(local.digests['1.1.0']);
  });
});

describe.skipIf(tools === undefined)('an OCI registry with token auth (a token server issuing RS256 JWTs)', () => {
  let registry: RunningRegistry;
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  let local: Awaited<ReturnType<typeof createLocalRegistry>>;

  beforeAll(async () => {
    tokens = await startTokenServer({ users: { deployer: 's3cret' } });
    registry = await startRegistry(tools!, { auth: { kind: 'token', realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certificate } });
    local = await createLocalRegistry({ '1.1.0': () => {} });
  });

  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
  });

  it('exchanges Docker config credentials for scoped tokens, and refuses anonymous access clearly', async () => {
    const dockerConfigDir = await writeDockerConfig(registry.host, 'deployer', 's3cret');
    await pushVersion(local.root, name, '1.1.0', registry.location, { plainHttp: true, dockerConfigDir });
    const loaded = await loadTrustedVersion({ location: registry.location, name, reference: '1.1.0', digest: local.digests['1.1.0'], plainHttp: true, dockerConfigDir });
    expect(loaded.digest).toBe(local.digests['1.1.0']);
    expect(tokens.requests).toContainEqual({ user: 'deployer', scope: `repository:models/${name}:pull,push` });
    expect(tokens.requests).toContainEqual({ user: 'deployer', scope: `repository:models/${name}:pull` });
    await expect(loadTrustedVersion({ location: registry.location, name, reference: '1.1.0', digest: local.digests['1.1.0'], plainHttp: true })).rejects.toThrow(
      'the registry refused anonymous access (HTTP 401); give credentials in a Docker config.json (DOCKER_CONFIG)',
    );
    await expect(
      loadTrustedVersion({ location: registry.location, name, reference: '1.1.0', digest: local.digests['1.1.0'], plainHttp: true, dockerConfigDir: await writeDockerConfig(registry.host, 'deployer', 'guess') }),
    ).rejects.toThrow(`the token server refused the credentials for ${registry.host} (HTTP 401)`);
  });
});
