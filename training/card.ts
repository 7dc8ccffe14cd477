import { getFeatureNames } from '../lib/model/encoding.ts';
import type { ClassificationMetrics } from '../lib/model/artifact.ts';
import type { RocPoint } from './metrics.ts';
import { SELECTION_RULE, THRESHOLD_RULE, type CandidateResult, type TrainingResult } from './pipeline.ts';

/** The files of a model card: the Markdown page and the pictures it shows. */
export const CARD_FILES = { card: 'model-card.md', confusion: 'confusion-matrix.svg', roc: 'roc-curve.svg', results: 'cv-results.json' } as const;

const percent = (value: number, digits = 1) => `${(value * 100).toFixed(digits)}%`;
const fixed = (value: number, digits = 4) => value.toFixed(digits);

/** Draw the test-split confusion matrix as a 2x2 SVG heat map. */
export function createConfusionMatrixSvg(metrics: ClassificationMetrics, threshold: number): string {
  const { tp, fp, tn, fn } = metrics.confusion;
  const total = tp + fp + tn + fn;
  const cells = [
    { row: 0, column: 0, count: tn, label: 'true negative' },
    { row: 0, column: 1, count: fp, label: 'false positive' },
    { row: 1, column: 0, count: fn, label: 'false negative' },
    { row: 1, column: 1, count: tp, label: 'true positive' },
  ];
  const max = Math.max(...cells.map((cell) => cell.count));
  const size = 150;
  const left = 130;
  const top = 70;
  const rects = cells
    .map((cell) => {
      const x = left + cell.column * size;
      const y = top + cell.row * size;
      const shade = Math.round(245 - (cell.count / max) * 170);
      const ink = shade < 150 ? '#fff' : '#111';
      return [
        `<rect x="${x}" y="${y}" width="${size}" height="${size}" fill="rgb(${shade},${shade + 5},255)" stroke="#fff" stroke-width="2"/>`,
        `<text x="${x + size / 2}" y="${y + 68}" text-anchor="middle" font-size="28" fill="${ink}">${cell.count}</text>`,
        `<text x="${x + size / 2}" y="${y + 94}" text-anchor="middle" font-size="13" fill="${ink}">${percent(cell.count / total)} · ${cell.label}</text>`,
      ].join('');
    })
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="460" height="420" viewBox="0 0 460 420" font-family="sans-serif">
  <title>Confusion matrix on the test split at threshold ${fixed(threshold, 3)}</title>
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="230" y="28" text-anchor="middle" font-size="16">Test split, threshold ${fixed(threshold, 3)} (${total} customers)</text>
  <text x="${left + size}" y="58" text-anchor="middle" font-size="14">predicted</text>
  <text x="${left + size / 2}" y="${top + 2 * size + 22}" text-anchor="middle" font-size="14">stays (No)</text>
  <text x="${left + (3 * size) / 2}" y="${top + 2 * size + 22}" text-anchor="middle" font-size="14">churns (Yes)</text>
  <text x="${left - 12}" y="${top + size / 2}" text-anchor="end" font-size="14">stays (No)</text>
  <text x="${left - 12}" y="${top + (3 * size) / 2}" text-anchor="end" font-size="14">churns (Yes)</text>
  <text x="22" y="${top + size}" text-anchor="middle" font-size="14" transform="rotate(-90 22 ${top + size})">actual</text>
  ${rects}
</svg>
`;
}

/** Draw the test-split ROC curve with the chance diagonal and the served threshold marked. */
export function createRocSvg(curve: RocPoint[], rocAuc: number, threshold: number): string {
  const size = 320;
  const left = 60;
  const top = 40;
  const x = (fpr: number) => (left + fpr * size).toFixed(1);
  const y = (tpr: number) => (top + (1 - tpr) * size).toFixed(1);
  const path = curve.map((point) => `${x(point.falsePositiveRate)},${y(point.truePositiveRate)}`).join(' ');
  // The served operating point: the last curve point whose threshold is still >= the served one.
  const operating = curve.filter((point) => point.threshold >= threshold).at(-1) ?? curve[0]!;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (t) =>
        `<text x="${x(t)}" y="${top + size + 18}" text-anchor="middle" font-size="11">${t}</text><text x="${left - 8}" y="${Number(y(t)) + 4}" text-anchor="end" font-size="11">${t}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="420" height="420" viewBox="0 0 420 420" font-family="sans-serif">
  <title>ROC curve on the test split, AUC ${fixed(rocAuc)}</title>
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="${left + size / 2}" y="24" text-anchor="middle" font-size="16">ROC curve, test split (AUC ${fixed(rocAuc, 3)})</text>
  <rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#999"/>
  <line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#bbb" stroke-dasharray="4 4"/>
  <polyline points="${path}" fill="none" stroke="#2456c8" stroke-width="2"/>
  <circle cx="${x(operating.falsePositiveRate)}" cy="${y(operating.truePositiveRate)}" r="5" fill="#d33"/>
  <text x="${Number(x(operating.falsePositiveRate)) + 9}" y="${Number(y(operating.truePositiveRate)) + 16}" font-size="12" fill="#d33">threshold ${fixed(threshold, 3)}</text>
  ${ticks}
  <text x="${left + size / 2}" y="${top + size + 38}" text-anchor="middle" font-size="13">false positive rate</text>
  <text x="18" y="${top + size / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${top + size / 2})">true positive rate (recall)</text>
</svg>
`;
}

function describeSettings(result: CandidateResult): string {
  const entries = Object.entries(result.hyperParameters).filter(([key]) => !['gainFunction', 'splitFunction'].includes(key));
  return entries.map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`).join(', ') || '—';
}

function describeRanges(result: TrainingResult): string {
  const ranges = result.signature.inputs.flatMap((input) =>
    input.type === 'integer' || input.type === 'number' ? [`\`${input.name}\` outside ${input.observed.min}–${input.observed.max}`] : [],
  );
  return ranges.join(', ');
}

function getBestByFamily(results: CandidateResult[]): CandidateResult[] {
  const best = new Map<string, CandidateResult>();
  for (const result of results) {
    const current = best.get(result.family);
    if (current === undefined || result.rocAucMean > current.rocAucMean) best.set(result.family, result);
  }
  return [...best.values()].sort((a, b) => b.rocAucMean - a.rocAucMean);
}

function getSplitFeatures(result: TrainingResult): string {
  if (result.model.type !== 'decision-tree') return '';
  const names = getFeatureNames(result.encoding);
  const counts = new Map<string, number>();
  for (const node of result.model.nodes) if ('feature' in node) counts.set(names[node.feature]!, (counts.get(names[node.feature]!) ?? 0) + 1);
  const root = result.model.nodes[0]!;
  const leaves = result.model.nodes.filter((node) => 'distribution' in node).length;
  const used = [...counts].sort((a, b) => b[1] - a[1]).map(([name, count]) => `\`${name}\` (${count})`);
  return [
    `The tree has ${result.model.nodes.length - leaves} splits and ${leaves} leaves; its first split is on \`${'feature' in root ? names[root.feature] : '—'}\`.`,
    `Splits per feature: ${used.join(', ')}.`,
    `A leaf's probability is the churn share of the training customers that reached it, so the model answers one of ${leaves} distinct probabilities.`,
  ].join(' ');
}

/** Write the model card of a training run: for a person deciding whether to trust this version. */
export function createModelCard(result: TrainingResult, identity: { name: string; version: string; created: string; gitCommit: string | null }): string {
  const { data, chosen, test, testAtHalf, threshold } = result;
  const families = getBestByFamily(result.results);
  const baseline = result.results.find((r) => r.family === 'majority-baseline');
  const runnerUp = families.find((r) => r.family !== chosen.family && r.family !== 'majority-baseline');
  const topTrees = result.results
    .filter((r) => r.family === 'decision-tree')
    .sort((a, b) => b.rocAucMean - a.rocAucMean)
    .slice(0, 5);
  const row = (r: CandidateResult) =>
    `| ${r.family} | ${describeSettings(r)} | ${fixed(r.rocAucMean)} | ${fixed(r.rocAucStd)} | ${fixed(r.brier)} | ${r.foldAucs.map((auc) => fixed(auc, 3)).join(' ')} |`;
  const metricsRow = (label: string, m: ClassificationMetrics) =>
    `| ${label} | ${fixed(m.rocAuc)} | ${percent(m.accuracy)} | ${percent(m.precision)} | ${percent(m.recall)} | ${fixed(m.f1)} | ${fixed(m.brier)} | ${m.confusion.tp} / ${m.confusion.fp} / ${m.confusion.tn} / ${m.confusion.fn} |`;
  const margin = runnerUp === undefined ? '' : ` It beats the best ${runnerUp.family} (${fixed(runnerUp.rocAucMean)}) by ${fixed(chosen.rocAucMean - runnerUp.rocAucMean)} AUC`;
  const withinNoise = runnerUp !== undefined && chosen.rocAucMean - runnerUp.rocAucMean < chosen.rocAucStd;

  return `# Model card: ${identity.name} ${identity.version}

Predicts whether a telecom customer will leave (churn) within the next month, from the account as it
stands today, so that the company can act before the customer leaves. Served as P(churn = Yes) and a
yes/no decision at threshold **${fixed(threshold, 4)}**.

| | |
|---|---|
| Created | ${identity.created} |
| Algorithm | ${chosen.family} (${chosen.library}), ${describeSettings(chosen)} |
| Training data | \`${data.path}\`, ${data.rows} rows, ${data.sha256} |
| Source commit | ${identity.gitCommit ?? 'unknown'} |
| Test ROC AUC | **${fixed(test.rocAuc)}** (${data.testRows} held-out customers) |

## Data

${data.rows} customers of the IBM Telco Customer Churn sample (see \`training/data/README.md\` for its
provenance); ${percent(data.baseRate)} churned. A stratified ${percent(result.options.testFraction, 0)} test split
(${data.testRows} rows) was set aside before anything else and used once, to measure the chosen model.
The remaining ${data.trainRows} rows (${percent(data.trainingBaseRate)} churn) were split into ${result.options.folds}
stratified folds for cross-validation (seed ${result.options.seed}).

## Candidates and selection

Selection rule, fixed before training: ${SELECTION_RULE}. The Brier score of the out-of-fold
probabilities (lower is better) shows how trustworthy each family's probabilities are.

| family | settings | mean CV ROC AUC | std | CV Brier | per fold |
|---|---|---|---|---|---|
${families.map(row).join('\n')}

Best decision trees of the ${result.results.filter((r) => r.family === 'decision-tree').length} searched:

| family | settings | mean CV ROC AUC | std | CV Brier | per fold |
|---|---|---|---|---|---|
${topTrees.map(row).join('\n')}

**Why ${chosen.family} won:** it has the highest mean cross-validated ROC AUC (${fixed(chosen.rocAucMean)}).${margin}${
    withinNoise ? ', a margin smaller than one fold-to-fold standard deviation, so the families are close on ranking quality' : ''
  }; the majority baseline scores ${fixed(baseline?.rocAucMean ?? 0.5)}. ${getSplitFeatures(result)}
Every candidate's fold scores are in \`${CARD_FILES.results}\`.

## Decision threshold

Rule: ${THRESHOLD_RULE}. It is **${fixed(threshold, 4)}** (out-of-fold F1 ${fixed(result.outOfFoldF1)}). Churners are
${percent(data.trainingBaseRate, 0)} of customers, so 0.5 flags too few of them: missing a leaving customer costs
more than an unneeded retention offer. Callers who weigh the two differently can apply their own
threshold to \`probability\`.

## Test-split metrics

| threshold | ROC AUC | accuracy | precision | recall | F1 | Brier | TP / FP / TN / FN |
|---|---|---|---|---|---|---|---|
${metricsRow(`served (${fixed(threshold, 3)})`, test)}
${metricsRow('0.5', testAtHalf)}

Always answering "No" would score ${percent(1 - data.baseRate)} accuracy, which is why accuracy is not the yardstick.

![Confusion matrix](${CARD_FILES.confusion})

![ROC curve](${CARD_FILES.roc})

### By group (test split, served threshold)

| group | customers | actual churn | predicted churn | recall | precision |
|---|---|---|---|---|---|
${result.testSubgroups.map((g) => `| ${g.input} = ${g.value} | ${g.rows} | ${percent(g.actualRate)} | ${percent(g.predictedRate)} | ${percent(g.recall)} | ${percent(g.precision)} |`).join('\n')}

## Limitations

- **Imbalance:** ${percent(data.baseRate)} of customers churn. At the served threshold about ${percent(
    (test.confusion.fp) / Math.max(1, test.confusion.tp + test.confusion.fp),
  )} of customers flagged as churners stay; use \`probability\` to rank customers when the retention budget is small.
- **Correlated charges:** \`total_charges\` is close to \`tenure\` × \`monthly_charges\`. Trees are unaffected; Gaussian
  naive Bayes double-counts that evidence, which is why it was also tried without \`total_charges\`.
- **What the model has not seen:** ${describeRanges(result)} (the
  tree extrapolates flat beyond its last split; \`/health\` counts such inputs per feature); categories other than the
  listed ones are refused. One company, one period: the churn base rate and customer mix of another market may differ.
- **Probabilities are leaf frequencies** (for a tree): coarse, and only as calibrated as the Brier score above shows.
- **Blind spots:** groups in the table above whose recall is far below the overall ${percent(test.recall)} are customers
  the model rarely flags even when they leave.
- **No causal meaning:** the model ranks customers by similarity to past churners; it does not say what would keep them.
- **Not evaluated here:** the 1,043 customers of the original 7,043 kept apart as an external hold-out.

## In production

The test-split figures above are what this version promises. Once served, send each customer's observed outcome to
\`POST /feedback\` (\`{"instances": [...], "outcomes": [true | false, ...]}\`, \`true\` for a customer who churned): \`/health\`
(\`telemetry.quality\`) then shows the live ROC AUC, accuracy, precision, recall and Brier beside these values, and
Prometheus alerts when live ROC AUC or accuracy falls more than 0.05 below them over a day of at least 500 outcomes.
When the version carries its training distribution (\`reference.json\`), every input of \`/predict\` is compared with
it: \`telemetry.drift.features\` gives each input's population stability index, and above 0.25 the inputs no longer
look like the data these figures were measured on. The repository README explains every figure and its PromQL.
`;
}

/** Create every model-card file of a training run, keyed by file name. */
export function createCardFiles(result: TrainingResult, identity: { name: string; version: string; created: string; gitCommit: string | null }): Record<string, string> {
  return {
    [CARD_FILES.card]: createModelCard(result, identity),
    [CARD_FILES.confusion]: createConfusionMatrixSvg(result.test, result.threshold),
    [CARD_FILES.roc]: createRocSvg(result.testRoc, result.test.rocAuc, result.threshold),
    [CARD_FILES.results]: `${JSON.stringify(result.results, null, 2)}\n`,
  };
}
