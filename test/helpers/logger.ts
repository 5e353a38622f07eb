import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logging/logger.js';

/** A real pino logger whose JSON lines are kept in memory for assertions. */
export function captureLogger(level: 'debug' | 'info' = 'debug'): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({ write(chunk, _e, cb) { chunks.push(String(chunk)); cb(); } });
  const logger = createLogger({ level, format: 'json', destination: destination as never });
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}
