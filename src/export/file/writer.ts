// The file exporter: one OTLP/JSON request per line in traces.jsonl / metrics.jsonl / logs.jsonl under the
// directory; a file that reaches rotate_bytes is renamed to <name>.1 (the previous .1 is replaced), so the
// disk holds at most about 2 × rotate_bytes per signal.
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OtlpSignal } from '../settings.js';
import type { SignalItem } from '../../model/signals.js';
import { logsJson, metricsJson, tracesJson } from './otlp-json.js';

export interface FileExporterSettings { directory: string; rotateBytes: number }

export class FileExporter {
  private readonly sizes = new Map<OtlpSignal, number>();

  constructor(readonly settings: FileExporterSettings) {
    mkdirSync(settings.directory, { recursive: true });
  }

  path(signal: OtlpSignal): string {
    return join(this.settings.directory, `${signal}.jsonl`);
  }

  /** Write one batch as one line. Throws on I/O errors (the caller counts the drop). */
  write<S extends OtlpSignal>(signal: S, items: readonly SignalItem[S][]): void {
    const doc = signal === 'traces' ? tracesJson(items as readonly SignalItem['traces'][])
      : signal === 'metrics' ? metricsJson(items as readonly SignalItem['metrics'][])
        : logsJson(items as readonly SignalItem['logs'][]);
    const line = `${JSON.stringify(doc)}\n`;
    const file = this.path(signal);
    let size = this.sizes.get(signal);
    if (size === undefined) {
      try { size = statSync(file).size; } catch { size = 0; }
    }
    if (size > 0 && size + Buffer.byteLength(line) > this.settings.rotateBytes) {
      renameSync(file, `${file}.1`);
      size = 0;
    }
    appendFileSync(file, line);
    this.sizes.set(signal, size + Buffer.byteLength(line));
  }
}
