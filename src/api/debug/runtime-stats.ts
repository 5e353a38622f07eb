// Node's own figures behind /debug/vars and the Go-style profiles: GC count and pauses (PerformanceObserver),
// bytes allocated since start (v8.GCProfiler: what each GC freed, plus what is in use now), event-loop delay
// (the closest thing Node has to Go's blocking profile), and the sampling heap profiler while debug is on.
import { PerformanceObserver, monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import v8 from 'node:v8';
import { loadPprof } from './pprof.js';

/** The GC profiler's buffer is drained this often so it stays small when nobody reads /debug/vars. */
const GC_PROFILER_ROTATE_MS = 30_000;
const HEAP_SAMPLE_INTERVAL_BYTES = 512 * 1024;
const HEAP_STACK_DEPTH = 64;

/** The sampling heap profiler is process-wide: shared by every API instance with debug on (tests run several). */
let heapProfilerUsers = 0;
let heapProfilerOn = false;
/** pprof is imported on first use, so the profiler converges to "on while anyone wants it" once it has loaded. */
function heapProfilerUse(on: boolean): void {
  heapProfilerUsers += on ? 1 : -1;
  void loadPprof().then(({ heap }) => {
    const want = heapProfilerUsers > 0;
    if (want && !heapProfilerOn) heap.start(HEAP_SAMPLE_INTERVAL_BYTES, HEAP_STACK_DEPTH);
    else if (!want && heapProfilerOn) heap.stop();
    heapProfilerOn = want;
  }, () => undefined /* not installed: /debug/pprof/heap keeps answering 503 */);
}

export class RuntimeStats {
  numGC = 0;
  pauseTotalNs = 0;
  lastGCNs = 0;
  private freedBytes = 0;
  private observer?: PerformanceObserver;
  private gcProfiler?: v8.GCProfiler;
  private rotate?: NodeJS.Timeout;
  private loopDelay?: IntervalHistogram;
  private heapProfiling = false;

  /** Always on while the API runs: counting GCs and what they freed is cheap. */
  start(): void {
    if (this.observer) return;
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.numGC++;
        this.pauseTotalNs += Math.round(e.duration * 1e6);
        this.lastGCNs = Math.round((performance.timeOrigin + e.startTime + e.duration) * 1e6);
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.gcProfiler = new v8.GCProfiler();
    this.gcProfiler.start();
    this.rotate = setInterval(() => this.drainGcProfiler(true), GC_PROFILER_ROTATE_MS).unref();
  }

  /** The heavier instruments, only while self_telemetry.debug.enabled. */
  setDebug(enabled: boolean): void {
    if (enabled && !this.loopDelay) {
      this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
      this.loopDelay.enable();
      heapProfilerUse(true);
      this.heapProfiling = true;
    } else if (!enabled && this.loopDelay) {
      this.loopDelay.disable();
      this.loopDelay = undefined;
      if (this.heapProfiling) heapProfilerUse(false);
      this.heapProfiling = false;
    }
  }

  stop(): void {
    this.setDebug(false);
    this.drainGcProfiler(false);
    this.gcProfiler = undefined;
    clearInterval(this.rotate);
    this.observer?.disconnect();
    this.observer = undefined;
  }

  get heapProfilerRunning(): boolean {
    return this.heapProfiling && heapProfilerOn;
  }

  /** Bytes allocated on the V8 heap since the API started: freed by GCs, plus what is in use now. */
  totalAllocBytes(heapUsed: number): number {
    this.drainGcProfiler(true);
    return this.freedBytes + heapUsed;
  }

  /** Event-loop delay percentiles in nanoseconds since debug was enabled (or the last reset). */
  eventLoopDelay(reset: boolean): { min: number; max: number; mean: number; p50: number; p90: number; p99: number; count: number } | undefined {
    const h = this.loopDelay;
    if (!h) return undefined;
    const out = { min: h.min, max: h.max, mean: Math.round(h.mean) || 0, p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), count: h.count };
    if (reset) h.reset();
    return out;
  }

  private drainGcProfiler(restart: boolean): void {
    const p = this.gcProfiler;
    if (!p) return;
    const r = p.stop();
    for (const s of r?.statistics ?? []) {
      this.freedBytes += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize);
    }
    if (restart) p.start();
  }
}
