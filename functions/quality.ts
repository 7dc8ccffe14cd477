import { Gauge, type Registry } from 'prom-client';
import type { ServedModel } from './model.ts';
import { registerScrapedCounter } from './scraped.ts';

/**
 * Score buckets of the Prometheus feedback counters: 100 of width 0.01. ROC AUC computed from them is within
 * 0.0001 of the exact value for the 1.0.0 tree on all 6,000 training customers, and for continuous scores
 * (quality.test.ts); 50 buckets already cost the tree 0.0006.
 */
export const SCORE_BUCKETS = 100;
/** Distinct scores whose outcomes `/health` counts one by one (ROC AUC exact); the 1.0.0 tree has 33. */
export const MAX_EXACT_SCORES = 1024;
/** Fixed bins (width 1/2000) `/health` counts into once there are more distinct scores than {@link MAX_EXACT_SCORES}. */
export const FINE_SCORE_BINS = 2000;

/** Label values of the `outcome` and `predicted` labels, by index: 0 stayed, 1 churned. */
export const OUTCOME_LABELS = ['no_churn', 'churn'] as const;
/** The card metrics exported as `churn_model_expected_metric{metric}`, by their manifest name. */
const EXPECTED_METRICS = [
  ['rocAuc', 'roc_auc'],
  ['accuracy', 'accuracy'],
  ['precision', 'precision'],
  ['recall', 'recall'],
  ['brier', 'brier'],
] as const;

/** The bucket of a probability among `buckets` equal-width buckets of [0, 1]: bucket b holds [b/buckets, (b+1)/buckets), 1 the last. */
export function getScoreBucket(score: number, buckets: number): number {
  return Math.min(buckets - 1, Math.max(0, Math.floor(score * buckets)));
}

/**
 * ROC AUC from how many stayers and churners share each score level, levels in ascending score order: the
 * Mann-Whitney statistic, the chance that a churner scores above a stayer with ties counting one half, which
 * equals the trapezoid area under the ROC curve. Null unless both outcomes occur.
 */
export function getRocAucOfCounts(stayed: ArrayLike<number>, churned: ArrayLike<number>): number | null {
  let stayedBelow = 0;
  let churners = 0;
  let pairs = 0;
  for (let i = 0; i < stayed.length; i++) {
    pairs += churned[i]! * (stayedBelow + stayed[i]! / 2);
    stayedBelow += stayed[i]!;
    churners += churned[i]!;
  }
  return churners === 0 || stayedBelow === 0 ? null : pairs / (churners * stayedBelow);
}

/** Outcomes counted by score in bounded memory, for ROC AUC. */
export interface ScoreHistogram {
  add(score: number, churned: boolean): void;
  /** ROC AUC of everything added; null unless both outcomes occur. */
  getRocAuc(): number | null;
  /** True while every distinct score has its own count, so ROC AUC is exact. */
  isExact(): boolean;
}

/**
 * Create a score histogram: one count per distinct score and outcome up to `maxExactScores` scores, then
 * `fineBins` equal-width bins (ties within a bin count one half, so AUC moves by at most half the share of
 * churner-stayer pairs that share a bin).
 */
export function createScoreHistogram({ maxExactScores = MAX_EXACT_SCORES, fineBins = FINE_SCORE_BINS } = {}): ScoreHistogram {
  let exact: Map<number, [number, number]> | undefined = new Map();
  // Stayers in [0, fineBins), churners in [fineBins, 2 * fineBins).
  let binned: Float64Array | undefined;
  const addToBins = (score: number, outcome: number, count: number) => {
    binned![outcome * fineBins + getScoreBucket(score, fineBins)]! += count;
  };
  return {
    add(score, churned) {
      const outcome = churned ? 1 : 0;
      if (exact !== undefined) {
        let counts = exact.get(score);
        if (counts === undefined && exact.size < maxExactScores) {
          counts = [0, 0];
          exact.set(score, counts);
        }
        if (counts !== undefined) {
          counts[outcome]++;
          return;
        }
        binned = new Float64Array(2 * fineBins);
        for (const [known, [stayed, churnedCount]] of exact) {
          addToBins(known, 0, stayed);
          addToBins(known, 1, churnedCount);
        }
        exact = undefined;
      }
      addToBins(score, outcome, 1);
    },
    getRocAuc() {
      if (exact === undefined) return getRocAucOfCounts(binned!.subarray(0, fineBins), binned!.subarray(fineBins));
      const levels = [...exact.entries()].sort(([a], [b]) => a - b);
      return getRocAucOfCounts(
        levels.map(([, counts]) => counts[0]),
        levels.map(([, counts]) => counts[1]),
      );
    },
    isExact: () => exact !== undefined,
  };
}

/** Quality of scored customers whose outcome is known; null where a figure is undefined (e.g. AUC with one outcome). */
export interface QualityMetrics {
  n: number;
  churned: number;
  rocAuc: number | null;
  accuracy: number | null;
  /** Share of flagged customers (probability >= threshold) who churned. */
  precision: number | null;
  /** Share of churners who were flagged. */
  recall: number | null;
  /** Mean squared difference between probability and outcome (0 or 1). */
  brier: number | null;
  /** Mean predicted probability, to set beside `churnRate` (calibration). */
  meanProbability: number | null;
  churnRate: number | null;
}

/** Running sums of scored customers with known outcomes: everything {@link QualityMetrics} needs. */
export interface QualityTally {
  /** Customers by `outcome * 2 + predicted` (0 stayed, 1 churned; predicted = probability >= threshold). */
  readonly confusion: Float64Array;
  /** Sum of probabilities by outcome. */
  readonly probabilitySums: Float64Array;
  /** Sum of squared errors (probability − outcome)² by outcome. */
  readonly squaredErrors: Float64Array;
  add(probability: number, churned: boolean): void;
  getMetrics(): QualityMetrics;
}

/** Create an empty tally for a model's decision threshold. */
export function createQualityTally(threshold: number, histogramOptions: Parameters<typeof createScoreHistogram>[0] = {}): QualityTally {
  const confusion = new Float64Array(4);
  const probabilitySums = new Float64Array(2);
  const squaredErrors = new Float64Array(2);
  const histogram = createScoreHistogram(histogramOptions);
  const ratio = (numerator: number, denominator: number) => (denominator === 0 ? null : numerator / denominator);
  return {
    confusion,
    probabilitySums,
    squaredErrors,
    add(probability, churned) {
      const outcome = churned ? 1 : 0;
      confusion[outcome * 2 + (probability >= threshold ? 1 : 0)]!++;
      probabilitySums[outcome]! += probability;
      squaredErrors[outcome]! += (probability - outcome) ** 2;
      histogram.add(probability, churned);
    },
    getMetrics() {
      const [tn, fp, fn, tp] = confusion as unknown as [number, number, number, number];
      const n = tn + fp + fn + tp;
      return {
        n,
        churned: fn + tp,
        rocAuc: histogram.getRocAuc(),
        accuracy: ratio(tp + tn, n),
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn),
        brier: ratio(squaredErrors[0]! + squaredErrors[1]!, n),
        meanProbability: ratio(probabilitySums[0]! + probabilitySums[1]!, n),
        churnRate: ratio(fn + tp, n),
      };
    },
  };
}

/** A live figure beside the model card's test-split value. */
export interface ComparedMetric {
  live: number | null;
  expected: number | null;
}

/** What `/health` reports about the quality of the served version on labelled customers since the process started. */
export interface HealthQuality {
  observations: number;
  churned: number;
  rocAuc: ComparedMetric;
  accuracy: ComparedMetric;
  precision: ComparedMetric;
  recall: ComparedMetric;
  brier: ComparedMetric;
  /** Mean predicted probability against the observed churn rate; `expected` is the training base rate. */
  calibration: { meanProbability: number | null; churnRate: number | null; trainingBaseRate: number | null };
}

/** Live quality of the served version: the `/health` figures and the Prometheus feedback counters. */
export interface QualityMonitor {
  setModel(model: ServedModel): void;
  /** Labelled customers scored by the served model: `churned[i]` is the outcome of `probabilities[i]`. */
  record(probabilities: Float64Array, churned: readonly boolean[]): void;
  getHealth(): HealthQuality;
}

interface VersionQuality {
  version: string;
  model: ServedModel;
  tally: QualityTally;
  /** Customers by `outcome * SCORE_BUCKETS + bucket`. */
  buckets: Float64Array;
}

/**
 * Create the quality monitor and register its metrics. Counts live in typed arrays and become Prometheus
 * samples only when scraped; every series exists (at 0) from the moment a model is set, so `increase()`
 * sees the first feedback.
 */
export function createQualityMonitor({ registry }: { registry: Registry }): QualityMonitor {
  let current: VersionQuality | undefined;
  const bucketLabels = Array.from({ length: SCORE_BUCKETS }, (_, b) => (b / SCORE_BUCKETS).toFixed(2));

  // Every feedback counter reports the served version's totals, and nothing before a model is set.
  const register = (name: string, help: string, labelNames: readonly string[], collect: (add: (labels: Record<string, string>, total: number) => void, served: VersionQuality) => void) =>
    registerScrapedCounter({
      registry,
      name,
      help,
      labelNames,
      collect(add) {
        if (current !== undefined) collect(add, current);
      },
    });
  // Consumed by the churn:feedback:increase1d recording rule (observations, ROC AUC, churn rate).
  register(
    'churn_feedback_total',
    'Labelled customers received on /feedback, by version, observed outcome and score bucket (lower edge of a 0.01-wide probability bucket).',
    ['version', 'outcome', 'bucket'],
    (add, { version, buckets }) => {
      for (let outcome = 0; outcome < 2; outcome++) {
        for (let b = 0; b < SCORE_BUCKETS; b++) add({ version, outcome: OUTCOME_LABELS[outcome]!, bucket: bucketLabels[b]! }, buckets[outcome * SCORE_BUCKETS + b]!);
      }
    },
  );
  // Consumed by churn:feedback_below:increase1d, which churn:feedback_roc_auc:1d pairs with the bucket counts.
  register(
    'churn_feedback_below_total',
    'Labelled customers on /feedback whose score fell in a lower bucket than `bucket`, by version and observed outcome.',
    ['version', 'outcome', 'bucket'],
    (add, { version, buckets }) => {
      for (let outcome = 0; outcome < 2; outcome++) {
        let below = 0;
        for (let b = 0; b < SCORE_BUCKETS; b++) {
          add({ version, outcome: OUTCOME_LABELS[outcome]!, bucket: bucketLabels[b]! }, below);
          below += buckets[outcome * SCORE_BUCKETS + b]!;
        }
      }
    },
  );
  // Consumed by churn:feedback_predicted:increase1d (accuracy, precision, recall at the served threshold).
  register(
    'churn_feedback_predicted_total',
    'Labelled customers on /feedback by version, observed outcome and predicted outcome at the served threshold.',
    ['version', 'outcome', 'predicted'],
    (add, { version, tally }) => {
      for (let cell = 0; cell < 4; cell++) add({ version, outcome: OUTCOME_LABELS[cell >> 1]!, predicted: OUTCOME_LABELS[cell & 1]! }, tally.confusion[cell]!);
    },
  );
  // Consumed by churn:feedback_mean_probability:1d (calibration against the observed churn rate) and churn:feedback_brier:1d.
  for (const [name, help, sums] of [
    ['churn_feedback_probability_total', 'Sum of the predicted churn probabilities of labelled customers on /feedback, by version and observed outcome.', 'probabilitySums'],
    ['churn_feedback_squared_error_total', 'Sum of (probability - outcome)^2 of labelled customers on /feedback, by version and observed outcome: the Brier score numerator.', 'squaredErrors'],
  ] as const) {
    register(name, help, ['version', 'outcome'], (add, { version, tally }) => {
      for (let outcome = 0; outcome < 2; outcome++) add({ version, outcome: OUTCOME_LABELS[outcome]! }, tally[sums][outcome]!);
    });
  }
  // Consumed by churn:model_expected_metric, which the quality alerts compare live figures with.
  const expected = new Gauge({
    name: 'churn_model_expected_metric',
    help: "The served version's test-split metrics from its model card (roc_auc, accuracy, precision, recall, brier).",
    labelNames: ['version', 'metric'] as const,
    registers: [registry],
  });

  const compare = (live: number | null, metric: keyof ServedModel['manifest']['metrics']['test']): ComparedMetric => ({
    live,
    expected: (current?.model.manifest.metrics.test[metric] as number | undefined) ?? null,
  });

  return {
    setModel(model) {
      current = { version: model.version, model, tally: createQualityTally(model.threshold), buckets: new Float64Array(2 * SCORE_BUCKETS) };
      expected.reset();
      for (const [field, metric] of EXPECTED_METRICS) expected.labels(model.version, metric).set(model.manifest.metrics.test[field]);
    },
    record(probabilities, churned) {
      if (current === undefined) return;
      const { tally, buckets } = current;
      for (let i = 0; i < probabilities.length; i++) {
        tally.add(probabilities[i]!, churned[i]!);
        buckets[(churned[i] ? SCORE_BUCKETS : 0) + getScoreBucket(probabilities[i]!, SCORE_BUCKETS)]!++;
      }
    },
    getHealth() {
      const metrics = current?.tally.getMetrics();
      return {
        observations: metrics?.n ?? 0,
        churned: metrics?.churned ?? 0,
        rocAuc: compare(metrics?.rocAuc ?? null, 'rocAuc'),
        accuracy: compare(metrics?.accuracy ?? null, 'accuracy'),
        precision: compare(metrics?.precision ?? null, 'precision'),
        recall: compare(metrics?.recall ?? null, 'recall'),
        brier: compare(metrics?.brier ?? null, 'brier'),
        calibration: {
          meanProbability: metrics?.meanProbability ?? null,
          churnRate: metrics?.churnRate ?? null,
          trainingBaseRate: current?.model.manifest.metrics.trainingBaseRate ?? null,
        },
      };
    },
  };
}
