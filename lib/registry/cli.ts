import { parseArgs } from 'node:util';
import { createDirectorySource } from './source.ts';
import { DEFAULT_MODEL_NAME, listVersions, loadVersion, promoteVersion, resolveReference, rollbackAlias, verifyRegistry } from './registry.ts';

const USAGE = `Inspect and change a folder-based model registry.

Usage: npm run registry -- <command> [options]
  list                       versions, digests, test ROC AUC and aliases
  show <version|alias>       the manifest of one version (verified)
  resolve <version|alias>    print "<version> <digest>" (for pipelines pinning a concrete version)
  promote <version> --alias <alias> [--reason TEXT]
                             point an alias (production, staging, ...) at a published version
  rollback --alias <alias> [--reason TEXT]
                             point an alias back at its previous version
  verify                     check every history chain, alias table and file digest
Options:
  --registry DIR   registry directory (default model-registry)
  --model NAME     model name (default ${DEFAULT_MODEL_NAME})`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      registry: { type: 'string', default: 'model-registry' },
      model: { type: 'string', default: DEFAULT_MODEL_NAME },
      alias: { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, argument] = positionals;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const { registry: root, model: name } = values;
  const reason = values.reason === undefined ? {} : { reason: values.reason };
  const requireArgument = (what: string): string => {
    if (argument === undefined) throw new Error(`${command} needs a ${what}`);
    return argument;
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
      const artifact = await loadVersion(createDirectorySource(root), name, requireArgument('version or alias'));
      out(JSON.stringify({ digest: artifact.digest, ...artifact.manifest }, null, 2));
      return 0;
    }
    case 'resolve': {
      const source = createDirectorySource(root);
      const resolved = await resolveReference(source, name, requireArgument('version or alias'));
      const artifact = await loadVersion(source, name, resolved.version, resolved.digest === undefined ? {} : { digest: resolved.digest });
      out(`${artifact.manifest.version} ${artifact.digest}`);
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
