// node_* families → OpenTelemetry system.* metrics (semantic conventions for system metrics). Kernel counters
// are cumulative since boot, so their start time is the boot time.
import type { Attributes, Resource, Scope } from '../model/attributes.js';
import type { Metric, NumberPoint } from '../model/metric.js';
import type { Family, Sample } from './family.js';

export const HOSTMETRICS_SCOPE: Scope = { name: 'telegen/hostmetrics' };

type Kind = 'counter' | 'updown' | 'gauge';

class Builder {
  readonly metrics: Metric[] = [];
  private readonly byName: Map<string, Family>;
  constructor(families: readonly Family[], private readonly resource: Resource, private readonly now: bigint, private readonly start: bigint) {
    this.byName = new Map(families.map((f) => [f.name, f]));
  }

  samples(name: string): Sample[] {
    return this.byName.get(name)?.samples ?? [];
  }

  value(name: string): number | undefined {
    return this.byName.get(name)?.samples[0]?.value;
  }

  emit(name: string, description: string, unit: string, kind: Kind, points: Array<{ attributes: Attributes; value: number }>): void {
    if (points.length === 0) return;
    const pts: NumberPoint[] = points.map((p) => ({ attributes: p.attributes, value: p.value, startTimeUnixNano: this.start, timeUnixNano: this.now }));
    const base = { name, description, unit, resource: this.resource, scope: HOSTMETRICS_SCOPE };
    if (kind === 'gauge') this.metrics.push({ ...base, type: 'gauge', points: pts });
    else this.metrics.push({ ...base, type: 'sum', monotonic: kind === 'counter', temporality: 'cumulative', points: pts });
  }

  /** The same metric from several node_* families, each adding fixed attributes. */
  fromFamilies(parts: Array<[string, Attributes]>, relabel: (labels: Record<string, string>) => Attributes): Array<{ attributes: Attributes; value: number }> {
    return parts.flatMap(([fam, extra]) => this.samples(fam).map((s) => ({ attributes: { ...relabel(s.labels), ...extra }, value: s.value })));
  }
}

const cpuNum = (l: Record<string, string>): Attributes => ({ 'cpu.logical_number': Number(l.cpu) });
const disk = (l: Record<string, string>): Attributes => ({ 'system.device': l.device ?? '' });
const iface = (l: Record<string, string>): Attributes => ({ 'network.interface.name': l.device ?? '' });

export function toOtlpMetrics(families: readonly Family[], resource: Resource, nowMs = Date.now()): Metric[] {
  const now = BigInt(Math.round(nowMs)) * 1_000_000n;
  const bootS = families.find((f) => f.name === 'node_boot_time_seconds')?.samples[0]?.value;
  const b = new Builder(families, resource, now, bootS ? BigInt(Math.round(bootS)) * 1_000_000_000n : now);

  b.emit('system.cpu.time', 'Seconds each logical CPU spent on each mode', 's', 'counter',
    b.samples('node_cpu_seconds_total').map((s) => ({ attributes: { ...cpuNum(s.labels), 'cpu.mode': s.labels.mode ?? '' }, value: s.value })));
  b.emit('system.cpu.frequency', 'Operating frequency of the logical CPU', 'Hz', 'gauge',
    b.samples('node_cpu_scaling_frequency_hertz').map((s) => ({ attributes: cpuNum(s.labels), value: s.value })));
  const cpus = new Set(b.samples('node_cpu_seconds_total').map((s) => s.labels.cpu)).size;
  if (cpus) b.emit('system.cpu.logical.count', 'Number of logical CPUs', '{cpu}', 'updown', [{ attributes: {}, value: cpus }]);
  for (const m of ['1', '5', '15']) {
    const v = b.value(`node_load${m}`);
    if (v !== undefined) b.emit(`system.cpu.load_average.${m}m`, `${m}-minute load average`, '{thread}', 'gauge', [{ attributes: {}, value: v }]);
  }

  const total = b.value('node_memory_MemTotal_bytes');
  const free = b.value('node_memory_MemFree_bytes');
  const buffers = b.value('node_memory_Buffers_bytes') ?? 0;
  const cached = b.value('node_memory_Cached_bytes') ?? 0;
  const sreclaimable = b.value('node_memory_SReclaimable_bytes') ?? 0;
  if (total !== undefined && free !== undefined) {
    const used = total - free - buffers - cached - sreclaimable;
    const states: Array<[string, number]> = [['used', used], ['free', free], ['buffers', buffers], ['cached', cached], ['slab_reclaimable', sreclaimable]];
    b.emit('system.memory.usage', 'Reports memory in use by state', 'By', 'updown', states.map(([state, value]) => ({ attributes: { 'system.memory.state': state }, value })));
    b.emit('system.memory.utilization', 'Fraction of memory in use by state', '1', 'gauge', states.map(([state, value]) => ({ attributes: { 'system.memory.state': state }, value: total ? value / total : 0 })));
    b.emit('system.memory.limit', 'Total memory available in the system', 'By', 'updown', [{ attributes: {}, value: total }]);
  }
  const swapTotal = b.value('node_memory_SwapTotal_bytes');
  const swapFree = b.value('node_memory_SwapFree_bytes');
  if (swapTotal !== undefined && swapFree !== undefined) {
    b.emit('system.paging.usage', 'Swap space in use and free', 'By', 'updown', [
      { attributes: { 'system.paging.state': 'used' }, value: swapTotal - swapFree }, { attributes: { 'system.paging.state': 'free' }, value: swapFree }]);
  }

  const rw = (read: string, write: string): Array<[string, Attributes]> => [[read, { 'disk.io.direction': 'read' }], [write, { 'disk.io.direction': 'write' }]];
  b.emit('system.disk.io', 'Disk bytes transferred', 'By', 'counter', b.fromFamilies(rw('node_disk_read_bytes_total', 'node_disk_written_bytes_total'), disk));
  b.emit('system.disk.operations', 'Disk operations completed', '{operation}', 'counter', b.fromFamilies(rw('node_disk_reads_completed_total', 'node_disk_writes_completed_total'), disk));
  b.emit('system.disk.operation_time', 'Time spent in disk operations', 's', 'counter', b.fromFamilies(rw('node_disk_read_time_seconds_total', 'node_disk_write_time_seconds_total'), disk));
  b.emit('system.disk.merged', 'Disk operations merged', '{operation}', 'counter', b.fromFamilies(rw('node_disk_reads_merged_total', 'node_disk_writes_merged_total'), disk));
  b.emit('system.disk.io_time', 'Time disk spent activated', 's', 'counter', b.fromFamilies([['node_disk_io_time_seconds_total', {}]], disk));

  const size = new Map(b.samples('node_filesystem_size_bytes').map((s) => [JSON.stringify(s.labels), s.value]));
  const fsFree = new Map(b.samples('node_filesystem_free_bytes').map((s) => [JSON.stringify(s.labels), s.value]));
  const fsPoints: Array<{ attributes: Attributes; value: number }> = [];
  const fsUtil: Array<{ attributes: Attributes; value: number }> = [];
  const inodes: Array<{ attributes: Attributes; value: number }> = [];
  for (const s of b.samples('node_filesystem_avail_bytes')) {
    const key = JSON.stringify(s.labels);
    const sz = size.get(key);
    const fr = fsFree.get(key);
    if (sz === undefined || fr === undefined) continue;
    const attrs = { 'system.device': s.labels.device ?? '', 'system.filesystem.mountpoint': s.labels.mountpoint ?? '', 'system.filesystem.type': s.labels.fstype ?? '' };
    fsPoints.push({ attributes: { ...attrs, 'system.filesystem.state': 'used' }, value: sz - fr },
      { attributes: { ...attrs, 'system.filesystem.state': 'free' }, value: s.value },
      { attributes: { ...attrs, 'system.filesystem.state': 'reserved' }, value: fr - s.value });
    fsUtil.push({ attributes: attrs, value: sz ? (sz - fr) / sz : 0 });
  }
  const files = new Map(b.samples('node_filesystem_files').map((s) => [JSON.stringify(s.labels), s.value]));
  for (const s of b.samples('node_filesystem_files_free')) {
    const all = files.get(JSON.stringify(s.labels));
    if (all === undefined) continue;
    const attrs = { 'system.device': s.labels.device ?? '', 'system.filesystem.mountpoint': s.labels.mountpoint ?? '', 'system.filesystem.type': s.labels.fstype ?? '' };
    inodes.push({ attributes: { ...attrs, 'system.filesystem.state': 'used' }, value: all - s.value }, { attributes: { ...attrs, 'system.filesystem.state': 'free' }, value: s.value });
  }
  b.emit('system.filesystem.usage', 'Filesystem bytes used, free and reserved', 'By', 'updown', fsPoints);
  b.emit('system.filesystem.utilization', 'Fraction of filesystem bytes used', '1', 'gauge', fsUtil);
  b.emit('system.filesystem.inodes.usage', 'Filesystem inodes used and free', '{inode}', 'updown', inodes);

  const rt = (stat: string): Array<[string, Attributes]> => [[`node_network_receive_${stat}_total`, { 'network.io.direction': 'receive' }], [`node_network_transmit_${stat}_total`, { 'network.io.direction': 'transmit' }]];
  b.emit('system.network.io', 'Bytes transmitted and received', 'By', 'counter', b.fromFamilies(rt('bytes'), iface));
  b.emit('system.network.packets', 'Packets transmitted and received', '{packet}', 'counter', b.fromFamilies(rt('packets'), iface));
  b.emit('system.network.errors', 'Transmit and receive errors', '{error}', 'counter', b.fromFamilies(rt('errs'), iface));
  b.emit('system.network.dropped', 'Packets dropped', '{packet}', 'counter', b.fromFamilies(rt('drop'), iface));
  const estab = b.value('node_netstat_Tcp_CurrEstab');
  if (estab !== undefined) b.emit('system.network.connections', 'TCP connections by state', '{connection}', 'updown', [{ attributes: { 'network.transport': 'tcp', 'network.connection.state': 'established' }, value: estab }]);

  b.emit('system.paging.faults', 'Page faults', '{fault}', 'counter', [
    ...b.samples('node_vmstat_pgmajfault').map((s) => ({ attributes: { 'system.paging.type': 'major' }, value: s.value })),
    ...b.samples('node_vmstat_pgfault').map((s) => ({ attributes: { 'system.paging.type': 'minor' }, value: s.value - (b.value('node_vmstat_pgmajfault') ?? 0) })),
  ]);
  b.emit('system.paging.operations', 'Pages swapped in and out', '{operation}', 'counter', [
    ...b.samples('node_vmstat_pswpin').map((s) => ({ attributes: { 'system.paging.direction': 'in' }, value: s.value })),
    ...b.samples('node_vmstat_pswpout').map((s) => ({ attributes: { 'system.paging.direction': 'out' }, value: s.value })),
  ]);
  b.emit('system.process.count', 'Processes by state', '{process}', 'updown', [
    ...b.samples('node_procs_running').map((s) => ({ attributes: { 'process.state': 'running' }, value: s.value })),
    ...b.samples('node_procs_blocked').map((s) => ({ attributes: { 'process.state': 'blocked' }, value: s.value })),
  ]);
  b.emit('system.process.created', 'Processes created since boot', '{process}', 'counter', b.samples('node_forks_total').map((s) => ({ attributes: {}, value: s.value })));
  b.emit('system.context_switches', 'Context switches since boot', '{switch}', 'counter', b.samples('node_context_switches_total').map((s) => ({ attributes: {}, value: s.value })));
  if (bootS) b.emit('system.uptime', 'Seconds since boot', 's', 'gauge', [{ attributes: {}, value: nowMs / 1000 - bootS }]);
  return b.metrics;
}
