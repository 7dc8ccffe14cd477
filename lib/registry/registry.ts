import { appendFile, chmod, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ArtifactError,
  MANIFEST_FILE,
  computeDigest,
  parseManifest,
  readArtifact,
  writeArtifact,
  type ArtifactContents,
  type LoadedArtifact,
  type Manifest,
} from '../model/artifact.ts';
import { getBreakingChanges, type Signature } from '../model/signature.ts';
import {
  ALIASES_FILE,
  HISTORY_FILE,
  createHistoryLine,
  getAliases,
  getPublishedVersions,
  getRollbackTarget,
  parseHistory,
  type AliasTarget,
  type HistoryEvent,
} from './history.ts';
import { createByteBudget } from './download.ts';
import { RegistryError } from './errors.ts';
import { createDirectorySource, type RegistrySource } from './source.ts';
import { DEFAULT_MAX_VERSION_BYTES } from './trust.ts';

/** The model this project trains and serves. */
export const DEFAULT_MODEL_NAME = 'telco-churn';

const VERSION_PATTERN = /^(\d+)\.(\d+)\.(\d+)$/;

/** True for a concrete semantic version such as `1.2.0` (as opposed to an alias). */
export function isVersion(reference: string): boolean {
  return VERSION_PATTERN.test(reference);
}

/** Order two versions numerically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/**
 * Read a model's alias table through any source. A source without one throws a `notFound`
 * RegistryError that says why (no registry directory, no such model, an OCI registry...).
 */
export async function readAliases(source: RegistrySource, name: string): Promise<Record<string, AliasTarget>> {
  const bytes = await source.readAliases(name);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, AliasTarget>;
  } catch {
    throw new RegistryError(`${name}/${ALIASES_FILE}`, 'is not valid JSON');
  }
}

/**
 * Resolve a version or alias to a concrete version; an alias also yields the digest it was
 * promoted with, which the loaded manifest must then match.
 */
export async function resolveReference(source: RegistrySource, name: string, reference: string): Promise<{ version: string; digest?: string }> {
  if (isVersion(reference)) return { version: reference };
  const target = (await readAliases(source, name))[reference];
  if (target === undefined) throw new RegistryError(`${name}/${ALIASES_FILE}`, `has no alias ${JSON.stringify(reference)}`, { notFound: true });
  return target;
}

/** Seconds spent in each registry phase of a load: resolve (alias, OCI manifest), download, verify. */
export interface RegistryPhases {
  resolve: number;
  download: number;
  verify: number;
}

/** A version loaded and verified, with where it came from and what each phase cost. */
export interface LoadedVersion extends LoadedArtifact {
  /** Where the files were read (a directory, a URL, or `oci://host/repository@sha256:…`). */
  location: string;
  /** The OCI manifest digest, when the version came from an OCI registry. */
  ociDigest: string | undefined;
  /** Every file's exact bytes, manifest.json included, as verified. */
  files: Map<string, Uint8Array>;
  phases: RegistryPhases;
}

/** Options of {@link loadVersion}. */
export interface LoadVersionOptions {
  /** sha256 of manifest.json the version must have (MODEL_DIGEST). */
  digest?: string | undefined;
  /** sha256 of the OCI manifest the version must be (OCI sources only). */
  ociDigest?: string | undefined;
  /** Most bytes the version's files may take together; reading stops past it. */
  maxBytes?: number;
}

/** The file names a manifest lists, read loosely to know what to download; readArtifact checks it properly. */
function getListedFiles(manifestBytes: Uint8Array): string[] {
  try {
    const files = (JSON.parse(new TextDecoder().decode(manifestBytes)) as { files?: unknown }).files;
    return typeof files === 'object' && files !== null ? Object.keys(files) : [];
  } catch {
    return [];
  }
}

/**
 * Load one version through any source and verify every file (see readArtifact). `digest` pins
 * the manifest; an alias's recorded digest pins it too, and both must agree. The files are all
 * downloaded (within `maxBytes`) before any is verified, so the phases can be told apart.
 */
export async function loadVersion(
  source: RegistrySource,
  name: string,
  reference: string,
  { digest, ociDigest, maxBytes = DEFAULT_MAX_VERSION_BYTES }: LoadVersionOptions = {},
): Promise<LoadedVersion> {
  const started = performance.now();
  const resolved = await resolveReference(source, name, reference);
  if (digest !== undefined && resolved.digest !== undefined && digest !== resolved.digest) {
    throw new ArtifactError(`${name}/${resolved.version}/${MANIFEST_FILE}`, `alias ${reference} records ${resolved.digest}, not the pinned ${digest}`);
  }
  const expectedDigest = digest ?? resolved.digest;
  const files = await source.openVersion(name, resolved.version, { ociDigest });
  const opened = performance.now();

  const budget = createByteBudget(maxBytes);
  const contents = new Map<string, Uint8Array>();
  const readInto = async (file: string) => void contents.set(file, await files.read(file, budget));
  if (files.digests !== undefined) {
    // The source lists every file with its digest (an OCI manifest): manifest.json's digest is the model digest, so
    // the pin is checked before any download, and every file then downloads at once.
    const listed = files.digests.get(MANIFEST_FILE);
    if (listed === undefined) throw new RegistryError(MANIFEST_FILE, `is not a file of ${files.location}`, { notFound: true });
    if (expectedDigest !== undefined && listed !== expectedDigest) throw new ArtifactError(MANIFEST_FILE, `digest ${listed} does not match the expected ${expectedDigest}`);
    await Promise.all([...files.digests.keys()].map(readInto));
  } else {
    await readInto(MANIFEST_FILE);
    // A manifest that fails its pin is refused before anything it lists is downloaded.
    if (expectedDigest === undefined || computeDigest(contents.get(MANIFEST_FILE)!) === expectedDigest) {
      await Promise.all(getListedFiles(contents.get(MANIFEST_FILE)!).filter((file) => file !== MANIFEST_FILE).map(readInto));
    }
  }
  const downloaded = performance.now();

  const artifact = await readArtifact(
    async (file) => {
      const bytes = contents.get(file);
      if (bytes === undefined) throw new RegistryError(file, `not found in ${files.location}`, { notFound: true });
      return bytes;
    },
    expectedDigest === undefined ? {} : { expectedDigest },
  );
  if (artifact.manifest.name !== name || artifact.manifest.version !== resolved.version) {
    throw new ArtifactError(`${name}/${resolved.version}/${MANIFEST_FILE}`, `describes ${artifact.manifest.name} ${artifact.manifest.version}`);
  }
  if (files.recordedDigest !== undefined && files.recordedDigest !== artifact.digest) {
    throw new ArtifactError(MANIFEST_FILE, `digest ${artifact.digest} does not match the ${files.recordedDigest} recorded at ${files.location}`);
  }
  const verified = performance.now();
  return {
    ...artifact,
    location: files.location,
    ociDigest: files.ociDigest,
    files: contents,
    phases: { resolve: (opened - started) / 1000, download: (downloaded - opened) / 1000, verify: (verified - downloaded) / 1000 },
  };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Read a model's history from a registry directory, checking its chain. */
export async function readHistory(root: string, name: string): Promise<{ events: HistoryEvent[]; lastLine: string | undefined }> {
  const text = (await readText(join(root, name, HISTORY_FILE))) ?? '';
  const events = parseHistory(text);
  const lines = text.split('\n').filter((line) => line !== '');
  return { events, lastLine: lines.at(-1) };
}

async function appendEvent(root: string, name: string, event: Omit<HistoryEvent, 'sequence' | 'previous'>): Promise<HistoryEvent[]> {
  const { events, lastLine } = await readHistory(root, name);
  const line = createHistoryLine(events, lastLine, event);
  await appendFile(join(root, name, HISTORY_FILE), `${line}\n`);
  const updated = [...events, JSON.parse(line) as HistoryEvent];
  // The alias table is a view of the history, replaced atomically so a reader never sees half of it.
  const temporary = join(root, name, `.${ALIASES_FILE}.${process.pid}`);
  await writeFile(temporary, `${JSON.stringify(getAliases(updated), null, 2)}\n`);
  await rename(temporary, join(root, name, ALIASES_FILE));
  return updated;
}

/**
 * The version a new publication gets: 1.0.0 first; then a major bump when the input signature
 * breaks clients of the latest version, a minor bump otherwise.
 */
export async function getNextVersion(root: string, name: string, signature: Signature): Promise<{ version: string; reasons: string[] }> {
  const published = [...getPublishedVersions((await readHistory(root, name)).events).keys()].sort(compareVersions);
  const latest = published.at(-1);
  if (latest === undefined) return { version: '1.0.0', reasons: ['first version'] };
  const manifest = parseManifest(await readFile(join(root, name, latest, MANIFEST_FILE)));
  const breaking = getBreakingChanges(manifest.signature, signature);
  const [major, minor] = latest.split('.').map(Number) as [number, number];
  if (breaking.length > 0) return { version: `${major + 1}.0.0`, reasons: breaking.map((change) => `${change.input}: ${change.reason}`) };
  return { version: `${major}.${minor + 1}.0`, reasons: [`input signature compatible with ${latest}`] };
}

/** Throw if `version` of `name` is published, or its folder exists, in a registry directory. */
async function verifyUnpublished(root: string, name: string, version: string): Promise<void> {
  const published = getPublishedVersions((await readHistory(root, name)).events);
  const exists = await stat(join(root, name, version)).then(
    () => true,
    () => false,
  );
  if (published.has(version) || exists) {
    throw new RegistryError(`${name}/${version}`, 'already exists: published versions are immutable, publish a new version instead');
  }
}

/**
 * Publish a new immutable version into a registry directory and record it in the history.
 * Refuses a version that already exists.
 */
export async function publishVersion(
  root: string,
  contents: ArtifactContents,
  { at = new Date().toISOString(), reason }: { at?: string; reason?: string } = {},
): Promise<{ manifest: Manifest; digest: string }> {
  const { name, version } = contents.manifest;
  await verifyUnpublished(root, name, version);
  await mkdir(join(root, name), { recursive: true });
  const result = await writeArtifact(join(root, name, version), contents);
  await appendEvent(root, name, { at, event: 'publish', version, digest: result.digest, ...(reason === undefined ? {} : { reason }) });
  return result;
}

/**
 * Add a version read from elsewhere (an OCI registry) to a registry directory, byte for byte, and
 * record its publication. `version` must have been verified (loadVersion); an existing version is refused.
 */
export async function importVersion(
  root: string,
  version: Pick<LoadedVersion, 'manifest' | 'digest' | 'files'>,
  { at = new Date().toISOString(), reason }: { at?: string; reason?: string } = {},
): Promise<void> {
  const { name, version: number } = version.manifest;
  await verifyUnpublished(root, name, number);
  const dir = join(root, name, number);
  await mkdir(join(root, name), { recursive: true });
  await mkdir(dir);
  for (const [file, bytes] of version.files) {
    await writeFile(join(dir, file), bytes, { flag: 'wx' });
    await chmod(join(dir, file), 0o444);
  }
  await appendEvent(root, name, { at, event: 'publish', version: number, digest: version.digest, ...(reason === undefined ? {} : { reason }) });
}

/** Point an alias at a published version after verifying it. */
export async function promoteVersion(
  root: string,
  name: string,
  alias: string,
  version: string,
  { at = new Date().toISOString(), reason }: { at?: string; reason?: string } = {},
): Promise<AliasTarget> {
  if (isVersion(alias) || !/^[a-z][a-z0-9-]*$/.test(alias)) throw new RegistryError(alias, 'is not a valid alias name (lowercase word, not a version)');
  const { events } = await readHistory(root, name);
  const publication = getPublishedVersions(events).get(version);
  if (publication === undefined) throw new RegistryError(`${name}/${version}`, 'is not a published version', { notFound: true });
  await loadVersion(createDirectorySource(root), name, version, { digest: publication.digest });
  const from = getAliases(events)[alias]?.version ?? null;
  await appendEvent(root, name, { at, event: 'promote', alias, version, digest: publication.digest, from, ...(reason === undefined ? {} : { reason }) });
  return { version, digest: publication.digest };
}

/** Point an alias back at the version it had before its current one. */
export async function rollbackAlias(
  root: string,
  name: string,
  alias: string,
  { at = new Date().toISOString(), reason }: { at?: string; reason?: string } = {},
): Promise<AliasTarget> {
  const { events } = await readHistory(root, name);
  const target = getRollbackTarget(events, alias);
  if (target === undefined) throw new RegistryError(`${name}/${HISTORY_FILE}`, `has no earlier version of alias ${alias} to roll back to`);
  await loadVersion(createDirectorySource(root), name, target.version, { digest: target.digest });
  const from = getAliases(events)[alias]?.version ?? null;
  await appendEvent(root, name, { at, event: 'rollback', alias, version: target.version, digest: target.digest, from, ...(reason === undefined ? {} : { reason }) });
  return target;
}

/** One published version as listed by {@link listVersions}. */
export interface VersionSummary {
  version: string;
  digest: string;
  created: string;
  algorithm: string;
  rocAuc: number;
  aliases: string[];
}

/** List a model's published versions, oldest first, with their aliases. */
export async function listVersions(root: string, name: string): Promise<VersionSummary[]> {
  const { events } = await readHistory(root, name);
  const aliases = getAliases(events);
  const summaries: VersionSummary[] = [];
  for (const [version, event] of [...getPublishedVersions(events)].sort(([a], [b]) => compareVersions(a, b))) {
    const manifest = parseManifest(await readFile(join(root, name, version, MANIFEST_FILE)));
    summaries.push({
      version,
      digest: event.digest,
      created: manifest.created,
      algorithm: manifest.algorithm.name,
      rocAuc: manifest.metrics.test.rocAuc,
      aliases: Object.entries(aliases)
        .filter(([, target]) => target.version === version)
        .map(([alias]) => alias),
    });
  }
  return summaries;
}

/** List the model names of a registry directory. */
export async function listModels(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name).sort();
}

/**
 * Check a whole registry directory: each history chain, each alias table against its history,
 * and every byte of every published version against its digests. Returns the problems found.
 */
export async function verifyRegistry(root: string): Promise<string[]> {
  const problems: string[] = [];
  const source = createDirectorySource(root);
  for (const name of await listModels(root)) {
    let events: HistoryEvent[];
    try {
      events = (await readHistory(root, name)).events;
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
      continue;
    }
    const published = getPublishedVersions(events);
    const aliasesText = await readText(join(root, name, ALIASES_FILE));
    const expectedAliases = `${JSON.stringify(getAliases(events), null, 2)}\n`;
    if ((aliasesText ?? expectedAliases) !== expectedAliases) problems.push(`${name}/${ALIASES_FILE}: does not match the history`);
    const entries = await readdir(join(root, name), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.isDirectory() && !published.has(entry.name)) problems.push(`${name}/${entry.name}: not a published version (no publish event)`);
      if (entry.isFile() && ![HISTORY_FILE, ALIASES_FILE].includes(entry.name)) problems.push(`${name}/${entry.name}: unexpected file`);
    }
    for (const [version, event] of published) {
      try {
        const artifact = await loadVersion(source, name, version, { digest: event.digest });
        const files = await readdir(join(root, name, version));
        for (const file of files) {
          if (file !== MANIFEST_FILE && !(file in artifact.manifest.files)) problems.push(`${name}/${version}/${file}: not listed in the manifest`);
        }
      } catch (error) {
        problems.push(`${name}/${version}: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}
