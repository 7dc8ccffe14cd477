// Reads `helm template` output on stdin and checks the monitoring objects against their one source in chart/files/:
// the PrometheusRule's groups are files/prometheus-rules.yaml with metrics.prometheusRule.alertLabels on every alert,
// and the dashboard ConfigMap holds files/grafana-dashboard.json byte for byte under the sidecar's label.
// Usage: helm template ... -f VALUES | node tests/chart/check-monitoring.ts VALUES
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { parseManifests } from './check-rendered.ts';

type Obj = Record<string, unknown>;
type Labels = Record<string, string>;

/** A rendered object, as far as this check reads it. */
interface Rendered {
  kind: string;
  metadata: { name: string; namespace?: string; labels: Labels };
  spec?: unknown;
  data?: Record<string, string>;
}

/** The monitoring values this check compares with. */
interface MonitoringValues {
  metrics: {
    prometheusRule: { enabled: boolean; labels: Labels; alertLabels: Labels };
    grafanaDashboard: { enabled: boolean; sidecarLabel: string; sidecarLabelValue: string; namespace: string };
  };
}

/** A Prometheus rule file. */
interface RuleFile {
  groups: { rules: { alert?: string; labels?: Labels }[] }[];
}

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** Values as Helm merges them: the chart's defaults overlaid by the file's, maps recursively. */
function mergeValues(defaults: Obj, overrides: Obj): Obj {
  const merged: Obj = { ...defaults };
  const isMap = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
  for (const [key, value] of Object.entries(overrides)) {
    const base = defaults[key];
    merged[key] = isMap(base) && isMap(value) ? mergeValues(base, value) : value;
  }
  return merged;
}

/** Every difference between the rendered monitoring objects and what the values and the source files ask for. */
export function findMonitoringProblems(objects: Rendered[], values: MonitoringValues): string[] {
  const problems: string[] = [];
  const { prometheusRule, grafanaDashboard } = values.metrics;
  const rules = objects.filter((object) => object.kind === 'PrometheusRule');
  if (rules.length !== (prometheusRule.enabled ? 1 : 0)) problems.push(`expected ${prometheusRule.enabled ? 1 : 0} PrometheusRule, got ${rules.length}`);
  for (const rule of rules) {
    const expected = parse(read('chart/files/prometheus-rules.yaml')) as RuleFile;
    for (const group of expected.groups) {
      for (const entry of group.rules) if (entry.alert !== undefined && Object.keys(prometheusRule.alertLabels).length > 0) entry.labels = { ...entry.labels, ...prometheusRule.alertLabels };
    }
    if (!isDeepStrictEqual(rule.spec, expected)) problems.push('the PrometheusRule spec differs from files/prometheus-rules.yaml with alertLabels');
    for (const [key, value] of Object.entries(prometheusRule.labels)) if (rule.metadata.labels[key] !== value) problems.push(`the PrometheusRule lacks label ${key}`);
  }
  const dashboards = objects.filter((object) => object.kind === 'ConfigMap' && String(object.metadata.name).endsWith('-dashboard'));
  if (dashboards.length !== (grafanaDashboard.enabled ? 1 : 0)) problems.push(`expected ${grafanaDashboard.enabled ? 1 : 0} dashboard ConfigMap, got ${dashboards.length}`);
  for (const dashboard of dashboards) {
    if (dashboard.data?.['telco-churn.json'] !== read('chart/files/grafana-dashboard.json').trimEnd()) problems.push('the dashboard differs from files/grafana-dashboard.json');
    if (dashboard.metadata.labels[grafanaDashboard.sidecarLabel] !== grafanaDashboard.sidecarLabelValue) problems.push(`the dashboard lacks the sidecar label ${grafanaDashboard.sidecarLabel}`);
    if ((dashboard.metadata.namespace ?? '') !== grafanaDashboard.namespace) problems.push('the dashboard is not in metrics.grafanaDashboard.namespace');
  }
  return problems;
}

function main(valuesPath: string): number {
  const values = mergeValues(parse(read('chart/values.yaml')) as Obj, (parse(readFileSync(valuesPath, 'utf8')) as Obj | null) ?? {});
  const problems = findMonitoringProblems(parseManifests(readFileSync(0, 'utf8')) as Rendered[], values as unknown as MonitoringValues);
  for (const problem of problems) process.stderr.write(`  ${problem}\n`);
  process.stdout.write(`monitoring objects ${valuesPath}: ${problems.length} problems\n`);
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = main(process.argv[2]!);
