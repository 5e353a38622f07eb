// OpenTelemetry attribute values as the pipeline carries them. Integers that may exceed 2^53 are bigint.
export type AttributeValue = string | number | boolean | bigint | readonly string[] | readonly number[];
export type Attributes = Record<string, AttributeValue>;

/** The entity that produced a signal: host, process, container, service (OTel resource semantic conventions). */
export interface Resource {
  readonly attributes: Attributes;
}

/** The instrumentation scope a signal is reported under (one per Telegen source, e.g. "telegen/http"). */
export interface Scope {
  readonly name: string;
  readonly version?: string;
}
