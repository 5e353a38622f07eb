// Flow metrics from TCP connection events: the Prometheus self-metrics (telegen_flow_*) and their OTLP
// equivalents (cumulative sums and a gauge, pushed periodically through the export pipeline).
import type { Metric } from '../../model/metric.js';
import type { Resource } from '../../model/attributes.js';
import type { SelfMetrics } from '../../telemetry/self-metrics.js';
import { failureReason, type TcpDirection, type TcpEvent } from './tcp-events.js';

const SCOPE = { name: 'telegen/network' };
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

export class FlowMetrics {
  private readonly connections: Record<TcpDirection, number> = { outbound: 0, inbound: 0 };
  private readonly failures = new Map<string, { direction: TcpDirection; reason: string; count: number }>();
  private bytesSent = 0;
  private bytesReceived = 0;
  private retransmits = 0;
  private activeCount = 0;
  private readonly startNs = nowNs();

  constructor(private readonly metrics: SelfMetrics) {}

  get active(): number {
    return this.activeCount;
  }

  record(e: TcpEvent): void {
    if (e.type === 'established') {
      this.opened(e.direction);
      this.activeCount++;
      return;
    }
    if (e.announced) this.activeCount = Math.max(0, this.activeCount - 1);
    if (e.type === 'failed') {
      const reason = failureReason(e.error);
      const key = `${e.direction}/${reason}`;
      const f = this.failures.get(key) ?? { direction: e.direction, reason, count: 0 };
      f.count++;
      this.failures.set(key, f);
      this.metrics.flowConnectionFailures.inc({ direction: e.direction, reason });
    } else if (!e.announced) {
      // Established but closed before any process accepted it: still a connection.
      this.opened(e.direction);
    }
    this.bytesSent += e.bytesSent;
    this.bytesReceived += e.bytesReceived;
    this.retransmits += e.retransmits;
    if (e.bytesSent) this.metrics.flowBytes.inc({ direction: 'sent' }, e.bytesSent);
    if (e.bytesReceived) this.metrics.flowBytes.inc({ direction: 'received' }, e.bytesReceived);
    if (e.retransmits) this.metrics.flowRetransmits.inc(e.retransmits);
    this.metrics.flowActiveConnections.set(this.activeCount);
  }

  private opened(direction: TcpDirection): void {
    this.connections[direction]++;
    this.metrics.flowConnections.inc({ protocol: 'tcp', direction });
    this.metrics.flowActiveConnections.set(this.activeCount + 1);
  }

  /** The OTLP form of the same numbers (cumulative since the tracer started). */
  toOtlp(resource: Resource): Metric[] {
    const t = nowNs();
    const base = { resource, scope: SCOPE };
    const point = (value: number, attributes: Record<string, string>) => ({ attributes, startTimeUnixNano: this.startNs, timeUnixNano: t, value, isInt: true });
    const sum = (name: string, description: string, unit: string, points: ReturnType<typeof point>[]): Metric =>
      ({ ...base, type: 'sum', name, description, unit, monotonic: true, temporality: 'cumulative', points });
    const active: Metric = { ...base, type: 'gauge', name: 'telegen.flow.active_connections', description: 'TCP connections open now', unit: '{connection}',
      points: [point(this.activeCount, { 'network.transport': 'tcp' })] };
    const all: Metric[] = [
      sum('telegen.flow.connections', 'TCP connections established', '{connection}',
        (['outbound', 'inbound'] as const).map((d) => point(this.connections[d], { 'network.transport': 'tcp', 'network.connection.direction': d }))),
      sum('telegen.flow.connection_failures', 'TCP connections that never established', '{connection}',
        [...this.failures.values()].map((f) => point(f.count, { 'network.transport': 'tcp', 'network.connection.direction': f.direction, 'error.type': f.reason }))),
      sum('telegen.flow.bytes', 'Bytes carried by closed TCP connections', 'By', [
        point(this.bytesSent, { 'network.transport': 'tcp', 'network.io.direction': 'transmit' }),
        point(this.bytesReceived, { 'network.transport': 'tcp', 'network.io.direction': 'receive' }),
      ]),
      sum('telegen.flow.retransmits', 'TCP segments retransmitted', '{segment}', [point(this.retransmits, { 'network.transport': 'tcp' })]),
      active,
    ];
    return all.filter((m) => m.points.length > 0);
  }
}
