import { Counter, type Registry } from 'prom-client';

/** Options of {@link registerScrapedCounter}. */
export interface ScrapedCounterOptions<Label extends string> {
  registry: Registry;
  name: string;
  help: string;
  labelNames: readonly Label[];
  /** Called at every scrape: report each series' current total through `add`. */
  collect(add: (labels: Record<Label, string>, total: number) => void): void;
}

/**
 * Register a counter whose totals live elsewhere (typed arrays the request path adds to) and are turned into
 * samples only when Prometheus scrapes, so no request pays for label lookups.
 */
export function registerScrapedCounter<Label extends string>({ registry, name, help, labelNames, collect }: ScrapedCounterOptions<Label>): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      collect((labels, total) => this.inc(labels, total));
    },
  });
}

/** One series of a scraped histogram: counts per bucket (the last is +Inf), their sum, and the observations. */
export interface HistogramSeries {
  counts: Float64Array;
  sum: number;
  count: number;
}

/** Options of {@link registerScrapedHistogram}. */
export interface ScrapedHistogramOptions<Label extends string> {
  registry: Registry;
  name: string;
  help: string;
  /** Upper bounds of the buckets, ascending; a last bucket, +Inf, is implied. */
  buckets: readonly number[];
  /** Called at every scrape: report each series' labels and counts through `add`. */
  collect(add: (labels: Record<Label, string>, series: HistogramSeries) => void): void;
}

/**
 * Register a histogram whose counts live in plain typed arrays the request path adds to (see
 * {@link observeInto}), exposed as cumulative `_bucket`, `_sum` and `_count` samples only when Prometheus scrapes:
 * no request pays for prom-client's label hashing.
 */
export function registerScrapedHistogram<Label extends string>({ registry, name, help, buckets, collect }: ScrapedHistogramOptions<Label>): void {
  const bounds = [...buckets.map(String), '+Inf'];
  registry.registerMetric({
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: () => {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      collect((labels, series) => {
        let cumulative = 0;
        bounds.forEach((le, bucket) => {
          cumulative += series.counts[bucket]!;
          values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${name}_bucket` });
        });
        values.push({ labels, value: series.sum, metricName: `${name}_sum` }, { labels, value: series.count, metricName: `${name}_count` });
      });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  } as unknown as Parameters<Registry['registerMetric']>[0]);
}

/** Count one observation into a series of a scraped histogram with these bucket bounds. */
export function observeInto(series: HistogramSeries, buckets: readonly number[], value: number): void {
  let bucket = 0;
  while (bucket < buckets.length && value > buckets[bucket]!) bucket++;
  series.counts[bucket]!++;
  series.sum += value;
  series.count++;
}
