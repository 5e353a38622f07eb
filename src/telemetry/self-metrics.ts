import client from 'prom-client';

/**
 * Telegen's own telemetry (GET /metrics): one prom-client registry per Agent, every family declared here so
 * names, help and labels live in one place. Subsystems increment these; state-derived gauges register a
 * collect callback through `onCollect`.
 */
export class SelfMetrics {
  readonly registry = new client.Registry<client.RegistryContentType>();
  private readonly collectors: Array<() => void> = [];

  readonly spansCollected = this.counter('telegen_spans_collected_total', 'Total spans collected', ['signal_type']);
  readonly spansExported = this.counter('telegen_spans_exported_total', 'Spans acknowledged by the backend');
  readonly spansDropped = this.counter('telegen_spans_dropped_total', 'Spans dropped, by reason', ['reason']);
  readonly metricsCollected = this.counter('telegen_metrics_collected_total', 'Metric data points collected');
  readonly metricsExported = this.counter('telegen_metrics_exported_total', 'Metric data points acknowledged by the backend');
  readonly metricsDropped = this.counter('telegen_metrics_dropped_total', 'Metric data points dropped, by reason', ['reason']);
  readonly logsCollected = this.counter('telegen_logs_collected_total', 'Log records collected');
  readonly logsExported = this.counter('telegen_logs_exported_total', 'Log records acknowledged by the backend');
  readonly logsDropped = this.counter('telegen_logs_dropped_total', 'Log records dropped, by reason', ['reason']);
  readonly profilesCollected = this.counter('telegen_profiles_collected_total', 'CPU profiles collected');

  readonly ebpfProgramsLoaded = this.gauge('telegen_ebpf_programs_loaded', 'eBPF programs loaded, by type', ['program_type']);
  readonly ebpfMapsCreated = this.gauge('telegen_ebpf_maps_created', 'eBPF maps created, by type', ['map_type']);
  readonly ebpfMapEntries = this.gauge('telegen_ebpf_map_entries', 'Entries in each eBPF map', ['map_name']);
  readonly ebpfRingbufEvents = this.counter('telegen_ebpf_ringbuf_events_total', 'Events received from eBPF ring buffers');
  readonly ebpfRingbufLost = this.counter('telegen_ebpf_ringbuf_lost_total', 'Events lost because a ring buffer was full');
  readonly ebpfEventsDiscarded = this.counter('telegen_ebpf_events_discarded_total', 'Ring-buffer records received but not delivered, by reason (malformed, unclaimed, subscriber_error)', ['reason']);
  readonly ebpfMapFull = this.counter('telegen_ebpf_map_full_total', 'Entries a BPF program could not insert because its map was full, by map', ['map_name']);

  readonly flowConnections = this.counter('telegen_flow_connections_total', 'TCP connections established, by protocol and direction (outbound = connect, inbound = accept)', ['protocol', 'direction']);
  readonly flowConnectionFailures = this.counter('telegen_flow_connection_failures_total', 'TCP connections that never established, by direction and reason', ['direction', 'reason']);
  readonly flowActiveConnections = this.gauge('telegen_flow_active_connections', 'TCP connections open now (those seen opening since the agent started)');
  readonly flowBytes = this.counter('telegen_flow_bytes_total', 'Bytes carried by closed TCP connections, by direction (sent/received by this host)', ['direction']);
  readonly flowRetransmits = this.counter('telegen_flow_retransmits_total', 'TCP segments retransmitted on closed connections');

  readonly exportRequests = this.counter('telegen_export_requests_total', 'Export requests, by endpoint and outcome', ['endpoint', 'status']);
  readonly exportErrors = this.counter('telegen_export_errors_total', 'Export errors, by endpoint and kind', ['endpoint', 'error_type']);
  readonly exportLatency = new client.Histogram({
    name: 'telegen_export_latency_seconds', help: 'Latency of one export request', labelNames: ['endpoint'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  });
  readonly exportBatchSize = new client.Histogram({
    name: 'telegen_export_batch_size', help: 'Items in one export request', labelNames: ['signal_type'],
    buckets: [1, 8, 32, 128, 512, 1024, 2048, 4096, 8192], registers: [this.registry],
  });
  readonly exportQueueSize = this.gauge('telegen_export_queue_size', 'Items waiting in each export queue', ['signal_type']);
  readonly exportQueueTruncated = this.counter('telegen_export_queue_truncated_bytes_total', 'Bytes of torn or corrupt persistent-queue tails truncated at start-up', ['signal_type']);
  readonly encoderCacheKeys = this.gauge('telegen_export_encoder_cache_keys', 'Attribute keys the OTLP encoder keeps pre-encoded (bounded)');
  readonly encoderCacheBytes = this.gauge('telegen_export_encoder_cache_bytes', 'Bytes of encoded keys and values the OTLP encoder caches (bounded)');
  readonly encoderCacheUncached = this.counter('telegen_export_encoder_cache_uncached_total', 'Attribute keys the OTLP encoder wrote without its cache because the cache was full');
  readonly encoderCacheResets = this.counter('telegen_export_encoder_cache_resets_total', 'Times the OTLP encoder dropped its full key cache to learn the current keys again');
  readonly remoteWriteSamples = this.counter('telegen_remote_write_samples_total', 'Samples sent with Prometheus remote write, by outcome', ['result']);

  readonly discoveryProcesses = this.gauge('telegen_discovery_processes', 'Processes tracked by discovery');
  readonly discoveryProcessesDropped = this.counter('telegen_discovery_processes_dropped_total', 'Processes not tracked because discovery.max_processes was reached (counted per scan)');
  readonly discoveryScanDuration = new client.Histogram({
    name: 'telegen_discovery_scan_duration_seconds', help: 'Duration of one /proc discovery scan',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });
  readonly hostMetricsCollectorErrors = this.counter('telegen_hostmetrics_collector_errors_total', 'Host metrics collector runs that failed, by collector', ['collector']);

  readonly httpRequests = this.counter('telegen_http_requests_total', 'HTTP requests traced from captured traffic (one span each), by kind (server, client)', ['kind']);
  readonly httpDropped = this.counter('telegen_http_dropped_total', 'HTTP capture anomalies and drops (not_http, malformed_head, header_too_large, truncated_head, lost_framing, gap, pipeline_overflow, unmatched_response, connection_evicted, metric_series_limit, pid_filter_full, malformed_event; shed: exchanges the kernel did not capture while the agent was behind; resync_abandoned: requests in flight dropped when a connection lost sync)', ['reason']);
  readonly httpConnections = this.gauge('telegen_http_connections', 'Connections the HTTP tracer holds parsing state for');
  readonly httpCaptureSuspended = this.gauge('telegen_http_capture_suspended', '1 while HTTP capture is suspended because a CPU was saturated (agent.ebpf.http.overload): no spans or RED observations meanwhile');
  readonly httpCaptureSuspensions = this.counter('telegen_http_capture_suspensions_total', 'Times HTTP capture was suspended (agent.ebpf.http.overload), by reason: saturated_cpu (a CPU shed exchanges while busy), agent_cpu (the agent over max_agent_cpu_percent of the host)', ['reason']);
  readonly httpCaptureSuspendedSeconds = this.counter('telegen_http_capture_suspended_seconds_total', 'Seconds HTTP capture spent suspended (agent.ebpf.http.overload), counted when each suspension ends');

  readonly configReloads = this.counter('telegen_config_reloads_total', 'Configuration reloads, by result', ['result']);

  readonly apiRequests = this.counter('telegen_api_requests_total', 'Control API requests answered, by route and status code', ['route', 'code']);
  readonly apiRateLimited = this.counter('telegen_api_rate_limited_total', 'Control API requests refused by the per-client rate limiter');
  readonly apiRateLimitClientsDropped = this.counter('telegen_api_rate_limit_clients_dropped_total', 'Clients forgotten because the rate limiter\'s client table was full');

  constructor() {
    // telegen_process_* (cpu seconds, resident/virtual memory, open/max fds, start time) and the Node.js runtime
    // in place of Go's: telegen_nodejs_eventloop_lag_*, heap sizes, GC durations. The event-loop delay histogram
    // samples once a second: at prom-client's 10–20 ms it woke the idle agent 50–100 times a second (~0.3% of a
    // core here, most of the 0.5% idle budget); a 1 s timer's lateness still shows every stall that matters.
    client.collectDefaultMetrics({ register: this.registry, prefix: 'telegen_', eventLoopMonitoringPrecision: 1000 });
    // prom-client also exports unlabelled sums as gauges named *_total, which Prometheus reserves for counters
    // (`promtool check metrics` flags them); the per-type telegen_nodejs_active_{handles,requests,resources} stay.
    for (const kind of ['handles', 'requests', 'resources']) this.registry.removeSingleMetric(`telegen_nodejs_active_${kind}_total`);
  }

  /** Register a callback that refreshes state-derived gauges just before each scrape. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  /** The exposition; `openMetrics` selects the OpenMetrics format. */
  render(openMetrics = false): Promise<{ contentType: string; body: string }> {
    // Serialized: an OpenMetrics render switches the registry's content type across an await, and a concurrent
    // scrape must not render in the wrong format.
    const next = this.rendering.then(() => this.renderNow(openMetrics));
    this.rendering = next.catch(() => undefined);
    return next;
  }

  private rendering: Promise<unknown> = Promise.resolve();

  private async renderNow(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    for (const fn of this.collectors) fn();
    if (openMetrics) {
      this.registry.setContentType(client.openMetricsContentType);
      const body = await this.registry.metrics();
      this.registry.setContentType(client.prometheusContentType);
      return { contentType: client.openMetricsContentType, body };
    }
    return { contentType: client.prometheusContentType, body: await this.registry.metrics() };
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
    return new client.Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
    return new client.Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }
}

/**
 * Feeds a Prometheus counter from a running total kept elsewhere (a BPF map, a module's own stats): each update
 * adds what the total grew by since the previous one; a total that went down (its source was reset) adds nothing.
 */
export class CounterFromTotal {
  constructor(private readonly add: (n: number) => void, private last = 0) {}

  update(total: number): void {
    if (total > this.last) this.add(total - this.last);
    this.last = total;
  }

  /** The source starts over (e.g. a newly loaded BPF object): its next total counts from `total`. */
  reset(total = 0): void {
    this.last = total;
  }

  /** The total seen last. */
  get value(): number {
    return this.last;
  }
}
