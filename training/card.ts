import type { ClassificationMetrics } from '../lib/model/artifact.ts';
import type { Calibration } from '../lib/model/calibration.ts';
import { getFeatureNames } from '../lib/model/encoding.ts';
import type { ModelParameters, TreeNodes } from '../lib/model/predictor.ts';
import { CALIBRATION_RULE, type CalibrationScore } from './calibration.ts';
import type { ReliabilityBin, RocPoint } from './metrics.ts';
import { FEW_CHURNERS, MISCALIBRATION, SELECTION_RULE, WEAK_GROUP_AUC, getThresholdRule, type CandidateResult, type CostComparison, type TrainingResult } from './pipeline.ts';

/** The files of a model card: the Markdown page, the pictures it shows and every candidate's scores. */
export const CARD_FILES = {
  card: 'model-card.md',
  confusion: 'confusion-matrix.svg',
  roc: 'roc-curve.svg',
  reliability: 'reliability-diagram.svg',
  results: 'cv-results.json',
} as const;

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

/** Draw the test-split reliability diagram: mean predicted probability against observed churn per bin, and how many customers each bin holds. */
export function createReliabilitySvg(bins: ReliabilityBin[], metrics: { ece: number; brier: number; logLoss: number }): string {
  const size = 320;
  const left = 60;
  const top = 50;
  const histogram = 70;
  const x = (p: number) => (left + p * size).toFixed(1);
  const y = (p: number) => (top + (1 - p) * size).toFixed(1);
  const filled = bins.filter((bin) => bin.count > 0);
  const largest = Math.max(...bins.map((bin) => bin.count));
  const bars = bins
    .map((bin) => {
      const height = (bin.count / largest) * (histogram - 10);
      const base = top + size + 30 + histogram - 10;
      return `<rect x="${x(bin.from)}" y="${(base - height).toFixed(1)}" width="${(size / bins.length - 2).toFixed(1)}" height="${height.toFixed(1)}" fill="#9bb4e8"/><text x="${(Number(x(bin.from)) + size / bins.length / 2).toFixed(1)}" y="${(base + 12).toFixed(1)}" text-anchor="middle" font-size="9">${bin.count}</text>`;
    })
    .join('');
  const path = filled.map((bin) => `${x(bin.meanProbability)},${y(bin.observedRate)}`).join(' ');
  const points = filled
    .map((bin) => `<circle cx="${x(bin.meanProbability)}" cy="${y(bin.observedRate)}" r="${(2.5 + 5 * Math.sqrt(bin.count / largest)).toFixed(1)}" fill="#2456c8" fill-opacity="0.8"><title>${bin.count} customers, mean ${bin.meanProbability.toFixed(3)}, observed ${bin.observedRate.toFixed(3)}</title></circle>`)
    .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => `<text x="${x(t)}" y="${top + size + 16}" text-anchor="middle" font-size="11">${t}</text><text x="${left - 8}" y="${Number(y(t)) + 4}" text-anchor="end" font-size="11">${t}</text>`)
    .join('');
  const height = top + size + 30 + histogram + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="420" height="${height}" viewBox="0 0 420 ${height}" font-family="sans-serif">
  <title>Reliability diagram on the test split: ECE ${fixed(metrics.ece)}, Brier ${fixed(metrics.brier)}, log loss ${fixed(metrics.logLoss)}</title>
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="${left + size / 2}" y="20" text-anchor="middle" font-size="15">Reliability, test split (${bins.length} equal-width bins)</text>
  <text x="${left + size / 2}" y="38" text-anchor="middle" font-size="12">ECE ${fixed(metrics.ece)} · Brier ${fixed(metrics.brier)} · log loss ${fixed(metrics.logLoss)}</text>
  <rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#999"/>
  <line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#bbb" stroke-dasharray="4 4"/>
  <polyline points="${path}" fill="none" stroke="#2456c8" stroke-width="1.5"/>
  ${points}
  ${ticks}
  <text x="${left + size / 2}" y="${top + size + 30 + histogram + 22}" text-anchor="middle" font-size="13">predicted probability (bars: customers per bin)</text>
  <text x="18" y="${top + size / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${top + size / 2})">observed churn rate</text>
  ${bars}
</svg>
`;
}

function describeSettings(result: CandidateResult): string {
  const entries = Object.entries(result.hyperParameters).filter(([key]) => !['gainFunction', 'splitFunction', 'sample'].includes(key));
  return entries.map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`).join(', ') || '—';
}

function describeCalibration(calibration: Calibration): string {
  switch (calibration.method) {
    case 'clip':
      return `clip: the model's own probabilities, held inside [${calibration.epsilon}, ${1 - calibration.epsilon}]`;
    case 'platt':
      return `Platt scaling: sigmoid(${fixed(calibration.slope)} × logit(p) ${calibration.intercept < 0 ? '−' : '+'} ${fixed(Math.abs(calibration.intercept))}), p first held inside [${calibration.epsilon}, ${1 - calibration.epsilon}]`;
    case 'isotonic':
      return `isotonic regression: ${calibration.scores.length} steps, interpolated between their centres, held inside [${calibration.epsilon}, ${1 - calibration.epsilon}]`;
  }
}

function describeRanges(result: TrainingResult): string {
  const ranges = result.signature.inputs.flatMap((input) =>
    input.type === 'integer' || input.type === 'number' ? [`\`${input.name}\` outside ${input.observed.min}–${input.observed.max}`] : [],
  );
  return ranges.join(', ');
}

const formatLogLoss = (value: number) => (Number.isFinite(value) ? fixed(value) : '∞');

function getTrees(model: ModelParameters): TreeNodes[] {
  return model.type === 'decision-tree' ? [model.nodes] : model.type === 'bagged-trees' ? model.trees : [];
}

function describeStructure(result: TrainingResult): string {
  const trees = getTrees(result.model);
  if (trees.length === 0) return '';
  const names = getFeatureNames(result.encoding);
  const counts = new Map<string, number>();
  const roots = new Map<string, number>();
  let leaves = 0;
  for (const nodes of trees) {
    const root = nodes[0]!;
    if ('feature' in root) roots.set(names[root.feature]!, (roots.get(names[root.feature]!) ?? 0) + 1);
    for (const node of nodes) {
      if ('feature' in node) counts.set(names[node.feature]!, (counts.get(names[node.feature]!) ?? 0) + 1);
      else leaves++;
    }
  }
  const used = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([name, count]) => `\`${name}\` (${count})`);
  const firstSplits = [...roots].sort((a, b) => b[1] - a[1]).map(([name, count]) => `\`${name}\` (${count})`);
  const splits = [...counts.values()].reduce((sum, count) => sum + count, 0);
  return trees.length === 1
    ? `The tree has ${splits} splits and ${leaves} leaves; its first split is on ${firstSplits.join('')}. Splits per feature: ${used.join(', ')}.`
    : `The ${trees.length} trees have ${splits} splits and ${leaves} leaves in all (${(leaves / trees.length).toFixed(1)} leaves per tree). First splits: ${firstSplits.join(', ')}. Most used features: ${used.join(', ')}.`;
}

function costTable(costs: CostComparison): string {
  const row = (label: string, threshold: string, cost: number) => `| ${label} | ${threshold} | ${fixed(cost)} | ${percent(1 - cost / costs.flagNoOne)} |`;
  return [
    '| policy | threshold | expected cost per customer | saving against flagging no one |',
    '|---|---|---|---|',
    row('**served: lowest out-of-fold cost**', fixed(costs.served.threshold), costs.served.cost),
    row('best out-of-fold F1', fixed(costs.bestF1.threshold), costs.bestF1.cost),
    row('flag everyone', '0', costs.flagEveryone),
    row('flag no one', '—', costs.flagNoOne),
  ].join('\n');
}

/** Write the model card of a training run: for a person deciding whether to trust this version. */
export function createModelCard(result: TrainingResult, identity: { name: string; version: string; created: string; gitCommit: string | null }): string {
  const { data, chosen, test, threshold, calibration } = result;
  const costRatio = result.options.costRatio;
  const baseline = result.families.find((f) => f.best.family === 'majority-baseline');
  const families = result.families.filter((f) => f.best.family !== 'majority-baseline');
  const runnerUp = [...families].filter((f) => f.best.family !== chosen.family).sort((a, b) => b.best.rocAucMean - a.best.rocAucMean)[0];
  const calibrated = (scores: CalibrationScore[]) => {
    const best = scores.reduce((chosenScore, score) => (score.logLoss < chosenScore.logLoss ? score : chosenScore));
    return `${best.method} | ${fixed(best.logLoss)} | ${fixed(best.brier)} | ${fixed(best.ece)}`;
  };
  const familyRow = ({ best, calibration: scores }: (typeof result.families)[number]) =>
    `| ${best.family} | ${describeSettings(best)} | ${fixed(best.rocAucMean)} ± ${fixed(best.rocAucStd)} | ${fixed(best.brier)} | ${formatLogLoss(best.logLoss)} | ${calibrated(scores)} |`;
  const row = (r: CandidateResult) =>
    `| ${r.family}${r.id === chosen.id ? ' **(chosen)**' : ''} | ${describeSettings(r)} | ${fixed(r.rocAucMean)} | ${fixed(r.rocAucStd)} | ${fixed(r.brier)} | ${formatLogLoss(r.logLoss)} | ${r.foldAucs.map((auc) => fixed(auc, 3)).join(' ')} |`;
  const metricsRow = (label: string, m: Required<ClassificationMetrics>) =>
    `| ${label} | ${percent(m.accuracy)} | ${percent(m.precision)} | ${percent(m.recall)} | ${fixed(m.f1)} | ${m.confusion.tp} / ${m.confusion.fp} / ${m.confusion.tn} / ${m.confusion.fn} |`;
  const bar = result.results.reduce((top, r) => (r.rocAucMean > top.rocAucMean ? r : top));
  const standardError = bar.rocAucStd / Math.sqrt(result.options.folds);
  const tied = result.results.filter((r) => r.rocAucMean >= bar.rocAucMean - standardError);
  const ranked = [...result.results].sort((a, b) => b.rocAucMean - a.rocAucMean).slice(0, 8);
  const contractGroups = result.testSubgroups.filter((g) => g.input === 'contract' && g.warnings.length > 0);
  const warnings = result.testSubgroups.flatMap((g) => g.warnings.map((warning) => `- **${g.input} = ${g.value}:** ${warning}.`));
  const groupRow = (g: TrainingResult['testSubgroups'][number]) =>
    `| ${g.input} = ${g.value}${g.warnings.length > 0 ? ' ⚠' : ''} | ${g.rows} | ${percent(g.churnRate)} | ${percent(g.meanProbability)} | ${Number.isNaN(g.rocAuc) ? '—' : fixed(g.rocAuc, 3)} | ${percent(g.flaggedRate)} | ${percent(g.recall)} | ${percent(g.precision)} | ${fixed(g.highestProbability, 3)} |`;

  return `# Model card: ${identity.name} ${identity.version}

Predicts whether a telecom customer will leave (churn) within the next month, from the account as it
stands today, so that the company can act before the customer leaves. Served as a calibrated
P(churn = Yes), never exactly 0 or 1, and a yes/no decision at threshold **${fixed(threshold)}**: the
threshold of lowest expected cost when missing a churner costs ${costRatio} times an unneeded retention offer.

| | |
|---|---|
| Created | ${identity.created} |
| Algorithm | ${chosen.family} (${chosen.library}), ${describeSettings(chosen)} |
| Calibration | ${describeCalibration(calibration)} |
| Training data | \`${data.path}\`, ${data.rows} rows, ${data.sha256} |
| Source commit | ${identity.gitCommit ?? 'unknown'} |
| Test split (${data.testRows} customers) | ROC AUC **${fixed(test.rocAuc)}**, Brier ${fixed(test.brier)}, log loss ${formatLogLoss(test.logLoss)}, ECE ${fixed(test.ece)} |

## Data

${data.rows} customers of the IBM Telco Customer Churn sample (see \`training/data/README.md\` for its
provenance); ${percent(data.baseRate)} churned. A stratified ${percent(result.options.testFraction, 0)} test split
(${data.testRows} rows) was set aside before anything else and used once, to measure the chosen model.
The remaining ${data.trainRows} rows (${percent(data.trainingBaseRate)} churn) were split into ${result.options.folds}
stratified folds for cross-validation (seed ${result.options.seed}).

## Candidates and selection

Selection rule, fixed before training: ${SELECTION_RULE}.

The three families, each by its best candidate under that rule. "Out-of-fold" columns score the
model's own probabilities; "calibrated" columns the best calibration of them, cross-fitted over the folds
(rule below), i.e. what the family could serve:

| family | settings | mean CV ROC AUC ± std | out-of-fold Brier | out-of-fold log loss | calibrated by | log loss | Brier | ECE |
|---|---|---|---|---|---|---|---|---|
${families.map(familyRow).join('\n')}
${baseline === undefined ? '' : familyRow(baseline)}

Best ${ranked.length} of the ${result.results.length} candidates by mean CV ROC AUC (every candidate's fold scores are in \`${CARD_FILES.results}\`):

| family | settings | mean CV ROC AUC | std | out-of-fold Brier | out-of-fold log loss | per fold |
|---|---|---|---|---|---|---|
${ranked.map(row).join('\n')}

**Why ${chosen.family} won:** the best mean CV ROC AUC is ${fixed(bar.rocAucMean)} (${bar.id}); one standard error is
${fixed(standardError)}, so the ${tied.length} candidate(s) at or above ${fixed(bar.rocAucMean - standardError)} count as tied, and of those
${chosen.id} has the lowest out-of-fold Brier score (${fixed(chosen.brier)}).${
    runnerUp === undefined ? '' : ` The best ${runnerUp.best.family} scores ${fixed(runnerUp.best.rocAucMean)}, ${fixed(chosen.rocAucMean - runnerUp.best.rocAucMean)} lower`
  }; the majority baseline scores ${fixed(baseline?.best.rocAucMean ?? 0.5)}. ${describeStructure(result)}

## Calibration

Rule, fixed before training: ${CALIBRATION_RULE}.

| method | cross-fitted log loss | Brier | ECE |
|---|---|---|---|
${result.calibrationScores.map((s) => `| ${s.method}${s.method === calibration.method ? ' **(chosen)**' : ''} | ${fixed(s.logLoss)} | ${fixed(s.brier)} | ${fixed(s.ece)} |`).join('\n')}

Served: ${describeCalibration(calibration)}. On the test split the served probabilities score
**ECE ${fixed(test.ece)}, Brier ${fixed(test.brier)}, log loss ${formatLogLoss(test.logLoss)}**:

![Reliability diagram](${CARD_FILES.reliability})

The model gives the ${data.rows} customers of the data **${result.distinctProbabilities.data} distinct probabilities**
(${result.distinctProbabilities.test} among the ${data.testRows} test customers), so it can rank customers finely; no probability is exactly 0 or 1.

## Decision threshold

Rule: ${getThresholdRule(costRatio)}. It is **${fixed(threshold)}**. The cost ratio ${costRatio} comes from stated
assumptions, not from scores (README, "The decision threshold"); \`npm run train -- --cost-ratio R\` retrains with
another, and callers with other costs can apply their own threshold to \`probability\` (for calibrated
probabilities the cost-optimal threshold is close to 1 / (1 + R)).

Out of fold (${data.trainRows} training customers), in units of one unneeded retention offer:

${costTable(result.costs.outOfFold)}

Test split (${data.testRows} customers, same thresholds):

${costTable(result.costs.test)}

## Test-split metrics

ROC AUC ${fixed(test.rocAuc)}, Brier ${fixed(test.brier)}, log loss ${formatLogLoss(test.logLoss)} and ECE ${fixed(test.ece)} do not depend on the threshold.

| threshold | accuracy | precision | recall | F1 | TP / FP / TN / FN |
|---|---|---|---|---|---|
${metricsRow(`**served (${fixed(threshold, 3)})**`, test)}
${metricsRow(`best out-of-fold F1 (${fixed(result.costs.outOfFold.bestF1.threshold, 3)})`, result.testAtBestF1)}
${metricsRow('0.5', result.testAtHalf)}

Always answering "No" would score ${percent(1 - data.baseRate)} accuracy, which is why accuracy is not the yardstick;
the served threshold trades accuracy for recall because a missed churner costs more than an offer.

![Confusion matrix](${CARD_FILES.confusion})

![ROC curve](${CARD_FILES.roc})

### By group (test split, served threshold)

"Highest probability" is the highest the model gives any customer of the group in the whole data set
(training and test); below the threshold, no such customer is ever flagged. ⚠ marks a warning below.

| group | customers | churn rate | mean probability | ROC AUC | flagged | recall | precision | highest probability |
|---|---|---|---|---|---|---|---|---|
${result.testSubgroups.map(groupRow).join('\n')}

Warnings, by fixed rules: *never flagged* (no customer of the group in the data reaches the threshold), *rarely
flagged* (recall under half the overall), *weak ranking* (ROC AUC within the group under ${WEAK_GROUP_AUC}), *miscalibrated*
(mean probability more than ${MISCALIBRATION * 100} points from the churn rate), *few churners* (under ${FEW_CHURNERS} in the test split):

${warnings.length === 0 ? '- none' : warnings.join('\n')}

## Limitations

- **Imbalance and cost:** ${percent(data.baseRate)} of customers churn. At the served threshold ${percent(
    test.confusion.fp / Math.max(1, test.confusion.tp + test.confusion.fp),
  )} of flagged customers stay: the threshold accepts that because an unneeded offer is assumed to cost 1/${costRatio} of a
  missed churner. If offers cost more than that, retrain with a smaller \`--cost-ratio\`.
${
  contractGroups.length === 0
    ? ''
    : `- **Weak within contract types:** ${contractGroups.map((g) => `${g.value} (${g.warnings.map((w) => w.split(':')[0]).join(', ')})`).join('; ')}. The contract is the strongest signal; within a long contract the model tells churners from stayers much less well, and the cost threshold flags few of them.\n`
}- **What the model has not seen:** ${describeRanges(result)} (trees extrapolate flat beyond their last split;
  \`/health\` counts such inputs per feature); categories other than the listed ones are refused. One company, one
  period: the churn base rate and customer mix of another market may differ, and calibration is only as good as
  that match.
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
    [CARD_FILES.reliability]: createReliabilitySvg(result.testReliability, result.test),
    [CARD_FILES.results]: `${JSON.stringify({ candidates: result.results, calibration: result.calibrationScores, costs: result.costs, subgroups: result.testSubgroups }, null, 2)}\n`,
  };
}
