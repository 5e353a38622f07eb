// Reads a running agent's API: /status/export and /metrics (Prometheus text), for tests that drive the real binary.

export interface ExportQueueStatus { size: number; capacity: number; exported: number; dropped: number }
export interface ExportStatus { connected: boolean; last_error: string | null; queues: Record<string, ExportQueueStatus> }

export async function exportStatus(base: string): Promise<ExportStatus> {
  const r = await fetch(`${base}/status/export`);
  if (r.status !== 200) throw new Error(`/status/export answered ${r.status}`);
  return await r.json() as ExportStatus;
}

/** The value of one sample of /metrics (`labels` must match exactly as rendered, e.g. `signal_type="traces"`), 0 when absent. */
export async function metricValue(base: string, name: string, labels = ''): Promise<number> {
  const r = await fetch(`${base}/metrics`);
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  const want = labels ? `${name}{${labels}} ` : `${name} `;
  const line = (await r.text()).split('\n').find((l) => l.startsWith(want));
  return line ? Number(line.slice(want.length).trim().split(' ')[0]) : 0;
}
