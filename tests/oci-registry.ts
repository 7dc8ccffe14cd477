import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getClosedPort } from './static-server.ts';

/** The real OCI parts the registry tests run against, installed by `.ci/oci-tools.sh`. */
export interface OciTools {
  /** CNCF Distribution's `registry` binary. */
  registry: string;
  oras: string;
  /** Apache's htpasswd (bcrypt entries for Distribution's basic auth), when installed. */
  htpasswd: string | undefined;
}

const isExecutable = (path: string | undefined): path is string => {
  if (path === undefined) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Find the tools where `.ci/oci-tools.sh` puts them (or OCI_REGISTRY_BIN, ORAS_BIN, HTPASSWD_BIN).
 * Undefined when they are missing, so the tests that need them are skipped on a machine without Go;
 * `.ci/run` installs them and sets REQUIRE_OCI_TOOLS=1, which turns a missing tool into a failure.
 */
export function findOciTools(): OciTools | undefined {
  const env: Record<string, string> = {};
  try {
    const printed = execFileSync('bash', ['.ci/oci-tools.sh', '--print-env'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const line of printed.split('\n')) {
      const [key, ...value] = line.split('=');
      if (key !== undefined && value.length > 0) env[key] = value.join('=');
    }
  } catch {
    // No Go: only explicit paths can name the tools.
  }
  const registry = process.env.OCI_REGISTRY_BIN ?? env.OCI_REGISTRY_BIN;
  const oras = process.env.ORAS_BIN ?? env.ORAS_BIN;
  const htpasswd = process.env.HTPASSWD_BIN ?? env.HTPASSWD_BIN;
  if (isExecutable(registry) && isExecutable(oras)) return { registry, oras, htpasswd: isExecutable(htpasswd) ? htpasswd : undefined };
  if (process.env.REQUIRE_OCI_TOOLS === '1') {
    throw new Error(`REQUIRE_OCI_TOOLS=1 but the OCI tools are missing (registry: ${registry ?? 'unknown'}, oras: ${oras ?? 'unknown'}): run bash .ci/oci-tools.sh`);
  }
  return undefined;
}

/** Distribution's authentication: none, htpasswd (basic), or a token server (Bearer JWTs). */
export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; path: string }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

/** A running Distribution registry on 127.0.0.1. */
export interface RunningRegistry {
  /** `127.0.0.1:<port>`, as oras and Docker's config.json name it. */
  host: string;
  /** `oci://127.0.0.1:<port>/models`: where each model is the repository `models/<name>`. */
  location: string;
  /** The filesystem storage, for tests that corrupt what the registry serves. */
  storage: string;
  pid: number;
  stop(): Promise<void>;
}

function renderConfig(port: number, storage: string, auth: RegistryAuth): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: registry-tests-only',
  ];
  if (auth.kind === 'htpasswd') lines.push('auth:', '  htpasswd:', '    realm: registry-tests', `    path: ${auth.path}`);
  if (auth.kind === 'token') {
    lines.push('auth:', '  token:', `    realm: ${auth.realm}`, `    service: ${auth.service}`, `    issuer: ${auth.issuer}`, `    rootcertbundle: ${auth.rootCertBundle}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Start Distribution with a temporary config and storage on a free port; resolves once /v2/ answers. */
export async function startRegistry(tools: OciTools, { auth = { kind: 'none' } }: { auth?: RegistryAuth } = {}): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-registry-'));
  const storage = join(dir, 'storage');
  await mkdir(storage);
  const port = await getClosedPort();
  await writeFile(join(dir, 'config.yml'), renderConfig(port, storage, auth));
  const child: ChildProcess = spawn(tools.registry, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.status === 200 || response.status === 401) break;
    } catch {
      // Not listening yet.
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`the registry did not start on 127.0.0.1:${port}: ${stderr}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    location: `oci://127.0.0.1:${port}/models`,
    storage,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The path of a blob's bytes in Distribution's filesystem storage. */
export async function findBlobFile(storage: string, digest: string): Promise<string> {
  const hex = digest.replace(/^sha256:/, '');
  const path = join(storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  await readdir(join(path, '..'));
  return path;
}

/** Run the real oras with `args` (in `cwd`, with no Docker config of the machine's); returns its stdout. */
export function runOras(tools: OciTools, args: string[], { cwd }: { cwd?: string } = {}): string {
  return execFileSync(tools.oras, args, { encoding: 'utf8', cwd, env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), DOCKER_CONFIG: join(tmpdir(), 'no-docker-config') }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Push a version folder the way the CI publish job does: through `.ci/push-model.sh` and the real oras.
 * Returns the script's `key=value` lines (`pushed`, `ref`, `oci-digest`).
 */
export function pushWithCiScript(
  tools: OciTools,
  versionDir: string,
  reference: string,
  { name, version, digest, env = {} }: { name: string; version: string; digest: string; env?: Record<string, string> },
): Record<string, string> {
  const output = execFileSync('bash', ['.ci/push-model.sh', versionDir, reference, '--plain-http'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), DOCKER_CONFIG: join(tmpdir(), 'no-docker-config'), ORAS: tools.oras, MODEL_NAME: name, MODEL_VERSION: version, MODEL_DIGEST: digest, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return Object.fromEntries(output.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
}
