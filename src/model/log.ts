import type { Attributes, Resource, Scope } from './attributes.js';

/** One log record (OTel log data model). Times are Unix epoch nanoseconds. */
export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText?: string;
  body: string;
  attributes: Attributes;
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  resource: Resource;
  scope: Scope;
}
