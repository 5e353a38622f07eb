// The `hostmetrics` subsystem: node_exporter-compatible collectors served on an optional Prometheus endpoint,
// and the same readings pushed as OTel system.* metrics through the pipeline every `interval`.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TelegenConfig } from '../config/schema.js';
import { type Health, type Subsystem, type SubsystemContext } from '../agent/subsystem.js';
import { createCollectors } from './collectors/index.js';
import type { StatfsFn } from './collectors/filesystem.js';
import type { Collector, CollectorEnv } from './family.js';
import { PROMETHEUS_CONTENT_TYPE, renderFamilies } from './exposition.js';
import { toOtlpMetrics } from './otlp.js';
import { scrape, type ScrapeResult } from './scrape.js';
import { startMetricsServer } from './server.js';
import { compileSettings, type HostMetricsConfig } from './settings.js';

export interface HostMetricsOptions {
  /** For tests: fake roots and a statfs that can hang. */
  procRoot?: string;
  sysRoot?: string;
  udevDataRoot?: string;
  statfs?: StatfsFn;
}

export interface HostMetricsStatus {
  enabled: boolean;
  collectors: string[];
  prometheus_listen: string | null;
  interval_ms: number;
  pushes: number;
  last_push: string | null;
  last_errors: Array<{ collector: string; error: string }>;
}

export type HostMetrics = Subsystem & {
  /** One scrape now (what /metrics and each OTLP push use). */
  scrapeNow(): Promise<ScrapeResult>;
  /** Where the Prometheus endpoint listens (undefined when off). */
  prometheusAddress(): AddressInfo | undefined;
};

export function createHostMetrics(ctx: SubsystemContext, opts: HostMetricsOptions = {}): HostMetrics {
  return new HostMetricsSubsystem(ctx, opts);
}

class HostMetricsSubsystem implements HostMetrics {
  readonly name = 'hostmetrics';
  private config: TelegenConfig;
  private settings?: HostMetricsConfig;
  private collectors: Collector[] = [];
  private server?: Server;
  private address?: AddressInfo;
  private timer?: NodeJS.Timeout;
  private pushes = 0;
  private lastPush: Date | null = null;
  private lastErrors: ScrapeResult['failures'] = [];
  private running = false;

  constructor(private readonly ctx: SubsystemContext, private readonly opts: HostMetricsOptions) {
    this.config = ctx.config;
  }

  private get enabled(): boolean {
    return this.config.mode !== 'collector' && this.config.agent.host_metrics.enabled;
  }

  async start(): Promise<void> {
    if (!this.enabled || this.running) return;
    const settings = compileSettings(this.config);
    this.settings = settings;
    this.collectors = createCollectors(settings.enabledCollectors, { statfs: this.opts.statfs });
    if (settings.prometheusListen) {
      const { server, address } = await startMetricsServer(settings.prometheusListen, async () => {
        const r = await this.scrapeNow();
        return { contentType: PROMETHEUS_CONTENT_TYPE, body: renderFamilies(r.families) };
      });
      this.server = server;
      this.address = address;
      this.ctx.logger.info({ listen: `${address.address}:${address.port}` }, 'host metrics Prometheus endpoint listening');
    }
    this.running = true;
    this.timer = setInterval(() => void this.push(), Math.max(1000, settings.intervalMs)).unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    this.address = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  async reload(config: TelegenConfig): Promise<void> {
    compileSettings(config); // throws on a bad regexp or collector name before anything changes
    await this.stop();
    this.config = config;
    await this.start();
  }

  health(): Health {
    return this.enabled && this.running ? 'ok' : 'disabled';
  }

  status(): HostMetricsStatus {
    return {
      enabled: this.enabled && this.running,
      collectors: this.settings?.enabledCollectors ?? [],
      prometheus_listen: this.address ? `${this.address.address}:${this.address.port}` : null,
      interval_ms: this.settings?.intervalMs ?? 0,
      pushes: this.pushes,
      last_push: this.lastPush?.toISOString() ?? null,
      last_errors: this.lastErrors,
    };
  }

  prometheusAddress(): AddressInfo | undefined {
    return this.address;
  }

  async scrapeNow(): Promise<ScrapeResult> {
    const settings = this.settings ?? compileSettings(this.config);
    const env: CollectorEnv = {
      procRoot: this.opts.procRoot ?? '/proc',
      sysRoot: this.opts.sysRoot ?? '/sys',
      udevDataRoot: this.opts.udevDataRoot ?? '/run/udev/data',
      settings,
    };
    const collectors = this.collectors.length ? this.collectors : createCollectors(settings.enabledCollectors, { statfs: this.opts.statfs });
    const r = await scrape(collectors, env);
    for (const f of r.failures) this.ctx.metrics.hostMetricsCollectorErrors.inc({ collector: f.collector });
    this.lastErrors = r.failures;
    return r;
  }

  private async push(): Promise<void> {
    try {
      const r = await this.scrapeNow();
      if (!this.running) return;
      const metrics = toOtlpMetrics(r.families, this.ctx.resource);
      this.ctx.sink.push('metrics', metrics);
      this.pushes++;
      this.lastPush = new Date();
    } catch (e) {
      this.ctx.logger.warn({ err: (e as Error).message }, 'host metrics push failed');
    }
  }
}
