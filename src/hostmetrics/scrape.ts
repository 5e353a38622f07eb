// One scrape: every enabled collector concurrently, each timed, a failure isolated to its own collector and
// reported as node_scrape_collector_success 0 (as node_exporter does).
import { family, NoDataError, type Collector, type CollectorEnv, type Family } from './family.js';

export interface ScrapeResult {
  families: Family[];
  failures: Array<{ collector: string; error: string }>;
}

export async function scrape(collectors: readonly Collector[], env: CollectorEnv): Promise<ScrapeResult> {
  const duration = family('node_scrape_collector_duration_seconds', 'node_exporter: Duration of a collector scrape.', 'gauge');
  const success = family('node_scrape_collector_success', 'node_exporter: Whether a collector succeeded.', 'gauge');
  const failures: ScrapeResult['failures'] = [];
  const results = await Promise.all(collectors.map(async (c) => {
    const started = performance.now();
    let fams: Family[] = [];
    let ok = 1;
    try {
      fams = await c.collect(env);
    } catch (e) {
      if (!(e instanceof NoDataError)) {
        ok = 0;
        failures.push({ collector: c.name, error: (e as Error).message });
      }
    }
    duration.samples.push({ labels: { collector: c.name }, value: (performance.now() - started) / 1000 });
    success.samples.push({ labels: { collector: c.name }, value: ok });
    return fams;
  }));
  const families = [...results.flat(), duration, success];
  families.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { families, failures };
}
