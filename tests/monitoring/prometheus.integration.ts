// The rule file and the dashboard on a real Prometheus (Debian's `prometheus` package): promtool checks and unit-tests
// the rules, then Prometheus scrapes the running service on 127.0.0.1 every 2 s with the rules loaded, while
// labelled customers go through /feedback and shifted ones through /predict. The recording rules must agree with
// /health, and every dashboard query must evaluate. Run by `npm run test:prometheus` (and .ci/run, which installs
// the package); skipped, saying so, where `prometheus` is not installed, unless PROMETHEUS_REQUIRED=1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../lib/model/signature.ts';
import { publishVersion } from '../../lib/registry/registry.ts';
import { readDataset } from '../../training/dataset.ts';
import { createReferencedTreeContents } from '../fixtures.ts';
import { startServer, type ServerProcess } from '../server-process.ts';
import { getClosedPort } from '../static-server.ts';

const RULES = resolve('chart/files/prometheus-rules.yaml');
const RULE_TESTS = resolve('tests/monitoring/rules.test.yaml');
const DASHBOARD = resolve('chart/files/grafana-dashboard.json');
/** Longest wait for Prometheus to start, scrape, or evaluate what the test waits for. */
const WAIT_MS = 60_000;
/** Dashboard variables as Grafana would substitute them for "all" of a running service. */
const VARIABLES: Record<string, string> = { $__rate_interval: '1m', $job: '.*', $version: '.*', $feature: 'tenure', '${datasource}': '' };

const installed = spawnSync('prometheus', ['--version']).status === 0 && spawnSync('promtool', ['--version']).status === 0;
if (!installed && process.env.PROMETHEUS_REQUIRED === '1') throw new Error('test:prometheus: `prometheus` and `promtool` are required (PROMETHEUS_REQUIRED=1) but not installed');
if (!installed) process.stderr.write('test:prometheus: skipped: `prometheus` and `promtool` are not installed (apt-get install prometheus; .ci/run does)\n');

type Sample = { metric: Record<string, string>; value: [number, string] };

describe.skipIf(!installed)('the rules and the dashboard on a real Prometheus', () => {
  let work: string;
  let server: ServerProcess;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let instances: Instance[];
  let churned: boolean[];

  const query = async (expr: string): Promise<Sample[]> => {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };
  const valueOf = async (expr: string): Promise<number> => {
    const result = await query(expr);
    if (result.length !== 1) throw new Error(`${expr}: expected one series, got ${result.length}`);
    return Number(result[0]!.value[1]);
  };
  const waitFor = async (what: string, check: () => Promise<boolean>) => {
    const deadline = performance.now() + WAIT_MS;
    let last: unknown;
    while (!(await check().catch((error: unknown) => ((last = error), false)))) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
      await new Promise((done) => setTimeout(done, 250));
    }
  };
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status, path).toBe(200);
    return response.json();
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'prometheus-test-'));
    const data = await readDataset('training/data/telco-churn.csv');
    instances = data.instances;
    churned = data.labels.map((label) => label === 1);
    await publishVersion(join(work, 'registry'), await createReferencedTreeContents());
    server = await startServer({ MODEL_REGISTRY: join(work, 'registry'), MODEL_VERSION: '1.0.0' });
    const port = await getClosedPort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    await writeFile(
      join(work, 'prometheus.yml'),
      [
        'global: {scrape_interval: 2s, evaluation_interval: 1s}',
        `rule_files: [${JSON.stringify(RULES)}]`,
        `scrape_configs: [{job_name: churn, static_configs: [{targets: [${JSON.stringify(new URL(server.url).host)}]}]}]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn('prometheus', [`--config.file=${join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${join(work, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor('Prometheus to be ready', async () => (await fetch(`${prometheusUrl}/-/ready`)).ok);
    // Counters must be scraped at 0 before anything happens, as in production where a pod is scraped before its
    // first request: increase() then counts every observation.
    await waitFor('the first scrape of the feedback counters', async () => (await valueOf('count(churn_feedback_total)')) === 200);
  });

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await server?.stop();
    if (prometheus !== undefined && prometheus.exitCode === null) await new Promise((done) => prometheus.once('exit', done));
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('accepts the rule file (promtool check rules) and passes its unit tests (promtool test rules)', () => {
    const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const unit = spawnSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
    expect(unit.status, unit.stdout + unit.stderr).toBe(0);
  });

  it('computes the same live quality and drift as /health from the scraped counters', async () => {
    // 6,000 labelled customers in batches of 1,000; 1,200 customers on /predict, a year longer with the company.
    for (let start = 0; start < instances.length; start += 1000) {
      await post('/feedback', { instances: instances.slice(start, start + 1000), outcomes: churned.slice(start, start + 1000) });
    }
    const longer = instances.slice(4800).map((customer) => ({ ...customer, tenure: (customer.tenure as number) + 12 }));
    await post('/predict', { instances: longer.slice(0, 1000) });
    await post('/predict', { instances: longer.slice(1000) });
    await waitFor('the feedback to be scraped', async () => (await valueOf('sum(churn_feedback_total)')) === instances.length);
    await waitFor('the quality rules to see it', async () => (await valueOf('churn:feedback_observations:1d')) >= instances.length);
    await waitFor('the drift rules to see the inputs', async () => (await valueOf('churn:input_observations:1h{feature="tenure"}')) >= 1200);

    const health = (await (await fetch(`${server.url}/health`)).json()) as {
      telemetry: { quality: Record<string, { live: number }> & { observations: number }; drift: { features: Record<string, { n: number; psi: number }> } };
    };
    const { quality, drift } = health.telemetry;
    expect(quality.observations).toBe(instances.length);
    const labels = '{job="churn",version="1.0.0"}';
    const readFigures = async () => ({
      rocAuc: await valueOf(`churn:feedback_roc_auc:1d${labels}`),
      accuracy: await valueOf(`churn:feedback_accuracy:1d${labels}`),
      precision: await valueOf(`churn:feedback_precision:1d${labels}`),
      recall: await valueOf(`churn:feedback_recall:1d${labels}`),
      brier: await valueOf(`churn:feedback_brier:1d${labels}`),
      psi: Object.fromEntries((await query('churn:input_psi:1h')).map((sample) => [sample.metric.feature!, Number(sample.value[1])])),
    });
    // Every figure is a ratio of increase()s of series scraped together, which extrapolate alike, so it equals the
    // ratio of the counts /health uses. A scrape landing while a group is evaluated lets one round's rules see
    // different last samples (with 2 s scrapes over seconds of history, by up to 20%); such a round is read past.
    const agree = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
    let figures = await readFigures();
    await waitFor('a rule evaluation that saw whole scrapes', async () => {
      figures = await readFigures();
      return (['accuracy', 'precision', 'recall', 'brier'] as const).every((metric) => agree(figures[metric], quality[metric]!.live)) &&
        Object.entries(figures.psi).every(([feature, value]) => agree(value, drift.features[feature]!.psi));
    }).catch(() => undefined);
    process.stderr.write(`test:prometheus: live ROC AUC /health ${quality.rocAuc!.live} vs recording rule ${figures.rocAuc}\n`);
    expect(Math.abs(figures.rocAuc - quality.rocAuc!.live)).toBeLessThan(0.005);
    for (const metric of ['accuracy', 'precision', 'recall', 'brier'] as const) expect(figures[metric], metric).toBeCloseTo(quality[metric]!.live, 9);
    expect(await valueOf(`churn:model_expected_metric{metric="roc_auc"}`)).toBeGreaterThan(0.8);

    process.stderr.write(`test:prometheus: tenure PSI /health ${drift.features.tenure!.psi} vs recording rule ${figures.psi.tenure}\n`);
    expect(Object.keys(figures.psi).sort()).toEqual(Object.keys(drift.features).sort());
    expect(figures.psi.tenure).toBeGreaterThan(0.25);
    for (const [feature, value] of Object.entries(figures.psi)) {
      expect(value, feature).toBeCloseTo(drift.features[feature]!.psi, 9);
      if (feature !== 'tenure') expect(value, feature).toBeLessThan(0.1);
    }
  });

  it('evaluates every rule without error and every dashboard query to at least one series', async () => {
    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const loaded = rules.data.groups.flatMap((group) => group.rules);
    expect(loaded.length).toBeGreaterThan(20);
    for (const rule of loaded) expect(`${rule.name}: ${rule.health} ${rule.lastError ?? ''}`.trim()).toBe(`${rule.name}: ok`);

    // One customer outside the training range, so the out-of-range panel has a series.
    await post('/predict', { instances: [{ ...instances[0], tenure: 100 }] });
    await waitFor('the out-of-range input to be scraped', async () => (await query('churn_input_out_of_range_total')).length > 0);
    await waitFor('a rate over two samples', async () => (await query('rate(churn_input_out_of_range_total[1m])')).length > 0);
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
      templating: { list: { name: string; query: string | { query: string } }[] };
    };
    const substitute = (expr: string) => Object.entries(VARIABLES).reduce((text, [name, value]) => text.replaceAll(name, value), expr);
    const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: substitute(target.expr) })));
    expect(targets.length).toBeGreaterThan(20);
    for (const { panel, expr } of targets) {
      // A recorded series appears once its group has run after the scrapes it needs: wait for it (bounded).
      await waitFor(`${panel} to have data`, async () => (await query(expr)).length > 0).catch(() => undefined);
      expect((await query(expr)).length, `${panel}: ${expr}`).toBeGreaterThan(0);
    }
    // Variable queries are Grafana's label_values(selector, label): the selector must find series carrying the label.
    for (const variable of dashboard.templating.list) {
      const text = typeof variable.query === 'string' ? variable.query : variable.query.query;
      const match = /^label_values\((.+), (\w+)\)$/.exec(text);
      if (match === null) continue;
      const series = await query(substitute(match[1]!));
      expect(series.filter((sample) => sample.metric[match[2]!] !== undefined).length, variable.name).toBeGreaterThan(0);
    }
  });
});
