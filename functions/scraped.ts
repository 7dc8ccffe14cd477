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
