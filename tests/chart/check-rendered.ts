// Reads `helm template` output on stdin and fails when it breaks a promise of the chart Knative does not check.
// Usage: helm template ... | node tests/chart/check-rendered.ts [label]
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { findViolations } from './chart-rules.ts';

/** Parses a multi-document YAML stream, refusing duplicate keys and syntax errors as the API server would. */
export function parseManifests(text: string): unknown[] {
  const objects: unknown[] = [];
  for (const document of parseAllDocuments(text, { uniqueKeys: true })) {
    if (document.errors.length > 0) throw new Error(document.errors.map((error) => error.message).join('\n'));
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

function main(label: string): number {
  const objects = parseManifests(readFileSync(0, 'utf8'));
  const violations = findViolations(objects);
  for (const v of violations) process.stderr.write(`  ${v.object} ${v.path}: [${v.rule}] ${v.message}\n`);
  process.stdout.write(`chart rules ${label}: ${objects.length} objects, ${violations.length} violations\n`);
  return violations.length === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = main(process.argv[2] ?? 'stdin');
