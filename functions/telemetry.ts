import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ShedReason } from './admission.ts';
import { createDriftMonitor, type FeatureDrift } from './drift.ts';
import type { ServedModel } from './model.ts';
import { createQualityMonitor, type HealthQuality } from './quality.ts';
import { observeInto, registerScrapedCounter, registerScrapedHistogram, type HistogramSeries } from './scraped.ts';
import type { LoadPhases } from './state.ts';

const PREDICT_ROUTE = '/predict';
/**
 * Small numbers for the routes and methods of the request-duration series' key. A method outside the list is
 * labelled `other`: the method is the client's to choose, and a label must take a bounded set of values.
 */
const ROUTE_KEYS = new Map(['/predict', '/feedback', '/health', '/ready', '/metrics', '/openapi.json', '/docs', 'unmatched'].map((route, i) => [route, i + 1]));
const METHOD_KEYS = new Map(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'].map((method, i) => [method, i + 1]));
/** Node's client error codes kept as label values; any other is counted as `other` (bounded cardinality). */
const CONNECTION_ERROR_CODES = new Set(['ERR_HTTP_REQUEST_TIMEOUT', 'ECONNRESET', 'HPE_HEADER_OVERFLOW', 'HPE_INVALID_METHOD', 'HPE_INVALID_URL', 'HPE_INVALID_HEADER_TOKEN', 'HPE_INVALID_CONTENT_LENGTH', 'HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_CHUNK_SIZE', 'HPE_INVALID_VERSION', 'HPE_INVALID_CONSTANT', 'HPE_CLOSED_CONNECTION', 'HPE_INVALID_TRANSFER_ENCODING', 'HPE_INVALID_EOF_STATE']);

/** Request duration buckets in seconds: fine below a millisecond, where /predict answers. */
export const DURATION_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

// Latency percentiles for /health come from log-spaced buckets: 20 per decade from 1 µs to 100 s,
// so a percentile is within 12% of the truth at O(1) cost per request.
const BUCKETS_PER_DECADE = 20;
const LOWEST_SECONDS = 1e-6;
const BUCKET_COUNT = 8 * BUCKETS_PER_DECADE + 1;

function getBucket(seconds: number): number {
  if (seconds <= LOWEST_SECONDS) return 0;
  return Math.min(BUCKET_COUNT - 1, Math.ceil(Math.log10(seconds / LOWEST_SECONDS) * BUCKETS_PER_DECADE));
}

function getBucketUpperSeconds(bucket: number): number {
  return LOWEST_SECONDS * 10 ** (bucket / BUCKETS_PER_DECADE);
}

/** What `/health` reports about the model's behaviour since the process started. */
export interface HealthTelemetry {
  since: string;
  predictRequests: number;
  predictions: { total: number; churn: number; predictedChurnRate: number | null; trainingBaseRate: number | null };
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  validationErrors: { requests: number; byField: Record<string, number> };
  quality: HealthQuality;
  drift: {
    outOfRange: Record<string, { below: number; above: number }>;
    unseenCategories: Record<string, number>;
    /** Population stability index of each input since start; null for a version without a drift reference. */
    features: Record<string, FeatureDrift> | null;
  };
}

interface NumericRange {
  name: string;
  /** The input's place among the input codes. */
  code: number;
  min: number;
  max: number;
  below: number;
  above: number;
}

/** Records what the service does: Prometheus metrics for scraping and the summary `/health` shows. */
export interface Telemetry {
  registry: Registry;
  /** The served model is loaded: label the info gauge, record the load phases, prepare drift counters for its inputs. */
  setModel(model: ServedModel, loadSeconds: number, phases?: LoadPhases): void;
  /** Any answered request; successful /predict ones also feed the latency percentiles of /health. */
  recordRequest(method: string, route: string, status: number, seconds: number): void;
  /** Scored customers: their input codes (`codeWidth` each, lib/model/signature.ts) and probabilities, in order. */
  recordPredictions(codes: Float64Array, codeWidth: number, probabilities: Float64Array, threshold: number): void;
  /** Labelled customers from /feedback, scored by the served model: `churned[i]` is the outcome behind `probabilities[i]`. */
  recordFeedback(probabilities: Float64Array, churned: readonly boolean[]): void;
  /** A rejected request: each offending field once; `unseenCategories` are category fields given an unknown value. */
  recordValidationErrors(fields: string[], unseenCategories: string[]): void;
  /** A request refused with 503 because a budget of the process was spent. */
  recordShed(reason: ShedReason): void;
  /** A connection closed for a protocol-level client error (Node's code: a timeout, malformed HTTP, a reset). */
  recordConnectionError(code: string): void;
  getHealth(): HealthTelemetry;
}

/**
 * Create the telemetry of one process, with Node's default process metrics; `isReady` says whether /ready
 * answers 200 (read at scrape time).
 */
export function createTelemetry({ collectProcessMetrics = true, isReady = () => false }: { collectProcessMetrics?: boolean; isReady?: () => boolean } = {}): Telemetry {
  const registry = new Registry();
  if (collectProcessMetrics) collectDefaultMetrics({ register: registry });
  const quality = createQualityMonitor({ registry });
  const drift = createDriftMonitor({ registry });
  // Consumed by the ChurnNotReady alert.
  new Gauge({
    name: 'churn_ready',
    help: '1 while GET /ready answers 200 (model loaded, verified and warm, no load being shed), 0 while loading, draining or shedding.',
    registers: [registry],
    collect() {
      this.set(isReady() ? 1 : 0);
    },
  });
  // Every request adds to these; prom-client's label hashing on each would cost several µs, so they are plain
  // numbers turned into samples at scrape time.
  const durations = new Map<number, { method: string; route: string; status: string; series: HistogramSeries }>();
  registerScrapedHistogram<'method' | 'route' | 'status'>({
    registry,
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route and status.',
    buckets: DURATION_BUCKETS_SECONDS,
    collect(add) {
      for (const { method, route, status, series } of durations.values()) add({ method, route, status }, series);
    },
  });
  registerScrapedCounter<'outcome'>({
    registry,
    name: 'churn_predictions_total',
    help: 'Customers scored, by predicted outcome at the served threshold.',
    labelNames: ['outcome'],
    collect(add) {
      add({ outcome: 'churn' }, churn);
      add({ outcome: 'no_churn' }, total - churn);
    },
  });
  const validationErrors = new Counter({
    name: 'churn_validation_errors_total',
    help: 'Rejected /predict requests, counted once per offending input field (or body/instances).',
    labelNames: ['field'] as const,
    registers: [registry],
  });
  registerScrapedCounter<'feature' | 'side'>({
    registry,
    name: 'churn_input_out_of_range_total',
    help: 'Accepted inputs outside the range seen in training, by feature and side.',
    labelNames: ['feature', 'side'],
    collect(add) {
      for (const range of ranges) {
        if (range.below > 0) add({ feature: range.name, side: 'below' }, range.below);
        if (range.above > 0) add({ feature: range.name, side: 'above' }, range.above);
      }
    },
  });
  const unseenCategory = new Counter({
    name: 'churn_input_unseen_category_total',
    help: 'Category values the model has never seen (requests rejected), by feature.',
    labelNames: ['feature'] as const,
    registers: [registry],
  });
  const modelInfo = new Gauge({
    name: 'churn_model_info',
    help: 'The served model version; always 1.',
    labelNames: ['name', 'version', 'digest'] as const,
    registers: [registry],
  });
  const shedTotal = new Counter({
    name: 'http_requests_shed_total',
    help: 'Requests refused with 503 before being read, by the budget that was spent (requests, body_bytes, busy).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const connectionErrors = new Counter({
    name: 'http_connection_errors_total',
    help: 'Connections closed for a client error before a request reached the app, by Node code (e.g. ERR_HTTP_REQUEST_TIMEOUT).',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const modelLoadSeconds = new Gauge({ name: 'churn_model_load_seconds', help: 'Time to fetch, verify and compile the served model.', registers: [registry] });
  const modelLoadPhaseSeconds = new Gauge({
    name: 'churn_model_load_phase_seconds',
    help: 'Time of each phase of loading the served model at cold start: resolve, download, verify, compile, warmup.',
    labelNames: ['phase'] as const,
    registers: [registry],
  });

  const since = new Date().toISOString();
  const latencyBuckets = new Float64Array(BUCKET_COUNT);
  let predictRequests = 0;
  let maxSeconds = 0;
  let total = 0;
  let churn = 0;
  let rejected = 0;
  let trainingBaseRate: number | null = null;
  let ranges: NumericRange[] = [];
  const byField: Record<string, number> = {};
  const unseen: Record<string, number> = {};

  const getPercentileMs = (quantile: number): number | null => {
    if (predictRequests === 0) return null;
    const rank = Math.ceil(quantile * predictRequests);
    let seen = 0;
    for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
      seen += latencyBuckets[bucket]!;
      if (seen >= rank) return Math.min(getBucketUpperSeconds(bucket), maxSeconds) * 1000;
    }
    return maxSeconds * 1000;
  };

  return {
    registry,
    setModel(model, loadSeconds, phases) {
      modelInfo.reset();
      modelInfo.labels(model.name, model.version, model.digest).set(1);
      modelLoadSeconds.set(loadSeconds);
      for (const [phase, seconds] of Object.entries(phases ?? {})) modelLoadPhaseSeconds.labels(phase).set(seconds);
      quality.setModel(model);
      drift.setModel(model);
      trainingBaseRate = model.manifest.metrics.trainingBaseRate;
      ranges = model.manifest.signature.inputs.flatMap((input, code) =>
        input.type === 'integer' || input.type === 'number' ? [{ name: input.name, code, min: input.observed.min, max: input.observed.max, below: 0, above: 0 }] : [],
      );
    },
    recordRequest(method, route, status, seconds) {
      // A number, not a string, as the key: no string is built per request.
      const key = (ROUTE_KEYS.get(route) ?? 0) * 1e6 + status * 8 + (METHOD_KEYS.get(method) ?? 0);
      let entry = durations.get(key);
      if (entry === undefined) {
        const methodLabel = METHOD_KEYS.has(method) ? method : 'other';
        entry = { method: methodLabel, route, status: String(status), series: { counts: new Float64Array(DURATION_BUCKETS_SECONDS.length + 1), sum: 0, count: 0 } };
        durations.set(key, entry);
      }
      observeInto(entry.series, DURATION_BUCKETS_SECONDS, seconds);
      if (route === PREDICT_ROUTE && status === 200) {
        predictRequests++;
        latencyBuckets[getBucket(seconds)]!++;
        if (seconds > maxSeconds) maxSeconds = seconds;
      }
    },
    recordPredictions(codes, codeWidth, probabilities, threshold) {
      const count = probabilities.length;
      let positives = 0;
      for (let i = 0; i < count; i++) if (probabilities[i]! >= threshold) positives++;
      total += count;
      churn += positives;
      drift.count(codes, codeWidth, count);
      for (const range of ranges) {
        let below = 0;
        let above = 0;
        // A null is NaN: neither below nor above.
        for (let at = range.code; at < count * codeWidth; at += codeWidth) {
          const value = codes[at]!;
          if (value < range.min) below++;
          else if (value > range.max) above++;
        }
        range.below += below;
        range.above += above;
      }
    },
    recordFeedback(probabilities, churned) {
      quality.record(probabilities, churned);
    },
    recordValidationErrors(fields, unseenCategories) {
      rejected++;
      for (const field of fields) {
        byField[field] = (byField[field] ?? 0) + 1;
        validationErrors.labels(field).inc();
      }
      for (const feature of unseenCategories) {
        unseen[feature] = (unseen[feature] ?? 0) + 1;
        unseenCategory.labels(feature).inc();
      }
    },
    recordShed(reason) {
      shedTotal.labels(reason).inc();
    },
    recordConnectionError(code) {
      connectionErrors.labels(CONNECTION_ERROR_CODES.has(code) ? code : 'other').inc();
    },
    getHealth() {
      return {
        since,
        predictRequests,
        predictions: { total, churn, predictedChurnRate: total === 0 ? null : churn / total, trainingBaseRate },
        latencyMs: { p50: getPercentileMs(0.5), p90: getPercentileMs(0.9), p99: getPercentileMs(0.99), max: predictRequests === 0 ? null : maxSeconds * 1000 },
        validationErrors: { requests: rejected, byField: { ...byField } },
        quality: quality.getHealth(),
        drift: {
          outOfRange: Object.fromEntries(ranges.map((range) => [range.name, { below: range.below, above: range.above }])),
          unseenCategories: { ...unseen },
          features: drift.getHealth(),
        },
      };
    },
  };
}
