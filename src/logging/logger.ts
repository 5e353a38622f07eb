// Structured logging with pino: JSON lines by default, human-readable text with `log_format: text`.
// Secrets from the configuration are scrubbed from every line as a last line of defence.
import { createRequire } from 'node:module';
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

/** pino-pretty is loaded only for `log_format: text` (synchronously: it is CommonJS), not for JSON lines. */
function pretty(opts: PrettyOptions): DestinationStream {
  const load = createRequire(import.meta.url)('pino-pretty') as (o: PrettyOptions) => DestinationStream;
  return load(opts);
}

export type Logger = PinoLogger;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Strings that must never appear in a log line (config secrets). */
  secrets?: () => readonly string[];
  /** Where lines go (default: stdout). */
  destination?: DestinationStream;
  /** Keeps the last lines in memory for `telegen diagnostics --include-logs`. */
  recent?: RecentLogs;
}

/** A bounded ring of recent log lines (bounded: `capacity` lines; older ones are dropped). */
export class RecentLogs {
  private readonly lines: string[] = [];
  constructor(readonly capacity = 1000) {}
  push(line: string): void {
    if (this.lines.length >= this.capacity) this.lines.shift();
    this.lines.push(line);
  }
  snapshot(): string[] {
    return [...this.lines];
  }
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = opts.destination ?? (opts.format === 'text'
    ? pretty({ colorize: false, sync: true, translateTime: 'SYS:standard', ignore: 'pid,hostname' })
    : pino.destination({ dest: 1, sync: true }));
  const dest: DestinationStream = {
    write(line: string) {
      let out = line;
      for (const s of opts.secrets?.() ?? []) if (s.length >= 4 && out.includes(s)) out = out.split(s).join('<redacted>');
      opts.recent?.push(out);
      base.write(out);
    },
  };
  return pino({
    level: opts.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, dest);
}
