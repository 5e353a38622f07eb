// The neutral form every collector produces: Prometheus-style metric families with node_exporter's names, help
// and types. The Prometheus endpoint renders them as they are; the OTLP output maps them to OTel names.
import type { HostMetricsConfig } from './settings.js';

export type FamilyType = 'counter' | 'gauge' | 'untyped';
export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: FamilyType;
  samples: Sample[];
}

export function family(name: string, help: string, type: FamilyType, samples: Sample[] = []): Family {
  return { name, help, type, samples };
}

/** Where collectors read from (a fake root in tests) and the compiled settings. */
export interface CollectorEnv {
  procRoot: string;
  sysRoot: string;
  /** /run/udev/data for disk info labels. */
  udevDataRoot: string;
  settings: HostMetricsConfig;
}

export interface Collector {
  readonly name: string;
  collect(env: CollectorEnv): Promise<Family[]>;
}

/** Thrown when a collector's source does not exist here (e.g. no cpufreq on a VM): success, no series. */
export class NoDataError extends Error {}
