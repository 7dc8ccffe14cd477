import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRegistrySource } from './load.ts';
import { pullVersion, pushVersion } from './oci-transfer.ts';
import { DEFAULT_MODEL_NAME, listVersions, loadVersion, promoteVersion, resolveReference, rollbackAlias, verifyRegistry } from './registry.ts';

const USAGE = `Inspect and change a folder-based model registry; push and pull versions to and from OCI registries.

Usage: npm run registry -- <command> [options]
  list                       versions, digests, test ROC AUC and aliases
  show <version|alias>       the manifest of one version (verified)
  resolve <version|alias>    print "<version> <digest>", and for an oci:// --registry its OCI manifest
                             digest as a third field (what a deployment pins)
  promote <version> --alias <alias> [--reason TEXT]
                             point an alias (production, staging, ...) at a published version
  rollback --alias <alias> [--reason TEXT]
                             point an alias back at its previous version
  verify                     check every history chain, alias table and file digest
  push oci://HOST[:PORT]/PATH <version> [--annotation KEY=VALUE ...]
                             push a published version as CI's oras push does (PATH/<model>:<version>);
                             an existing tag with other content is refused
  pull oci://HOST[:PORT]/PATH <version>[@sha256:<OCI digest>] [--digest sha256:<model digest>]
                             pull, verify and add a version to the --registry directory
Options:
  --registry DIR|URL  registry directory (default model-registry); show and resolve also read
                      http(s):// and oci:// registries
  --model NAME        model name (default ${DEFAULT_MODEL_NAME})
  --plain-http        speak plain HTTP to an oci:// registry (a local one), as oras --plain-http
Credentials for oci:// come from $DOCKER_CONFIG/config.json (default ~/.docker/config.json).`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      registry: { type: 'string', default: 'model-registry' },
      model: { type: 'string', default: DEFAULT_MODEL_NAME },
      alias: { type: 'string' },
      reason: { type: 'string' },
      digest: { type: 'string' },
      annotation: { type: 'string', multiple: true, default: [] },
      'plain-http': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, argument, second] = positionals;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const { registry: root, model: name } = values;
  const reason = values.reason === undefined ? {} : { reason: values.reason };
  const requireArgument = (what: string): string => {
    if (argument === undefined) throw new Error(`${command} needs a ${what}`);
    return argument;
  };
  const oci = { plainHttp: values['plain-http'], dockerConfigDir: process.env.DOCKER_CONFIG ?? join(homedir(), '.docker') };
  const requireVersion = (): string => {
    if (second === undefined) throw new Error(`${command} needs an oci:// location and a version`);
    return second;
  };
  const requireAlias = (): string => {
    if (values.alias === undefined) throw new Error(`${command} needs --alias`);
    return values.alias;
  };

  switch (values.help ? 'help' : command) {
    case 'list': {
      const versions = await listVersions(root, name);
      out(`${name} in ${root}: ${versions.length} version(s)`);
      for (const v of versions) {
        out(`${v.version.padEnd(8)} ${v.created}  ${v.algorithm.padEnd(17)} test AUC ${v.rocAuc.toFixed(4)}  ${v.digest.slice(0, 19)}…  ${v.aliases.join(', ')}`);
      }
      return 0;
    }
    case 'show': {
      const artifact = await loadVersion(createRegistrySource(root, oci), name, requireArgument('version or alias'));
      out(JSON.stringify({ digest: artifact.digest, ...(artifact.ociDigest === undefined ? {} : { ociDigest: artifact.ociDigest }), ...artifact.manifest }, null, 2));
      return 0;
    }
    case 'resolve': {
      const source = createRegistrySource(root, oci);
      const resolved = await resolveReference(source, name, requireArgument('version or alias'));
      const artifact = await loadVersion(source, name, resolved.version, resolved.digest === undefined ? {} : { digest: resolved.digest });
      out(`${artifact.manifest.version} ${artifact.digest}${artifact.ociDigest === undefined ? '' : ` ${artifact.ociDigest}`}`);
      return 0;
    }
    case 'push': {
      const annotations = Object.fromEntries(
        values.annotation.map((pair) => {
          const equals = pair.indexOf('=');
          if (equals <= 0) throw new Error(`--annotation ${pair} is not KEY=VALUE`);
          return [pair.slice(0, equals), pair.slice(equals + 1)];
        }),
      );
      const result = await pushVersion(root, name, requireVersion(), requireArgument('oci:// location'), { ...oci, annotations });
      out(`${result.pushed ? 'pushed' : 'already published'} ${result.reference}@${result.ociDigest} (model digest ${result.digest})`);
      return 0;
    }
    case 'pull': {
      const [version, ociDigest] = requireVersion().split('@') as [string, string | undefined];
      const loaded = await pullVersion(requireArgument('oci:// location'), name, version, root, { ...oci, digest: values.digest, ociDigest });
      out(`pulled ${loaded.location} into ${root}/${name}/${version} (model digest ${loaded.digest})`);
      return 0;
    }
    case 'promote': {
      const alias = requireAlias();
      const target = await promoteVersion(root, name, alias, requireArgument('version'), reason);
      out(`${alias} -> ${target.version} (${target.digest})`);
      return 0;
    }
    case 'rollback': {
      const alias = requireAlias();
      const target = await rollbackAlias(root, name, alias, reason);
      out(`${alias} -> ${target.version} (${target.digest}), rolled back`);
      return 0;
    }
    case 'verify': {
      const problems = await verifyRegistry(root);
      for (const problem of problems) out(`FAIL ${problem}`);
      out(problems.length === 0 ? `${root}: every file matches its digest, every history chain and alias table is intact` : `${problems.length} problem(s)`);
      return problems.length === 0 ? 0 : 1;
    }
    case 'help':
      out(USAGE);
      return 0;
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`registry: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
