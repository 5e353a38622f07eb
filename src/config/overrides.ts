// Environment variables and CLI flags that override the file. Precedence: flags > environment > file > defaults.
// Each override remembers where it came from, so a bad value is reported as `env TELEGEN_MODE`, not a file line.
import type { ConfigIssue } from './issues.js';

export interface Override { path: string[]; value: unknown; origin: string; merge?: boolean }

type Parse = (raw: string, name: string) => unknown;
const str: Parse = (raw) => raw;
const bool: Parse = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new Error(`${name} must be true or false, found "${raw}"`);
};
/** W3C baggage-style `k=v,k2=v2` lists (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES); values URL-decoded. */
export const keyValueList: Parse = (raw, name) => {
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`${name} must be a comma-separated list of key=value, found "${part.trim()}"`);
    out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
};

/** The documented environment overrides: variable → key path. */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: string; parse: Parse; merge?: boolean }> = [
  { env: 'TELEGEN_MODE', path: 'mode', parse: str },
  { env: 'TELEGEN_LOG_LEVEL', path: 'log_level', parse: str },
  { env: 'TELEGEN_LOG_FORMAT', path: 'log_format', parse: str },
  { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', path: 'otlp.endpoint', parse: str },
  { env: 'OTEL_EXPORTER_OTLP_HEADERS', path: 'otlp.headers', parse: keyValueList, merge: true },
  { env: 'OTEL_EXPORTER_OTLP_INSECURE', path: 'otlp.insecure', parse: bool },
  { env: 'OTEL_EXPORTER_OTLP_COMPRESSION', path: 'otlp.compression', parse: str },
  { env: 'OTEL_SERVICE_NAME', path: 'resource.service_name', parse: str },
  { env: 'OTEL_RESOURCE_ATTRIBUTES', path: 'resource.attributes', parse: keyValueList, merge: true },
  { env: 'TELEGEN_AGENT_EBPF_ENABLED', path: 'agent.ebpf.enabled', parse: bool },
  { env: 'TELEGEN_AGENT_PROFILING_ENABLED', path: 'agent.profiling.enabled', parse: bool },
  { env: 'TELEGEN_AGENT_NETWORK_ENABLED', path: 'agent.ebpf.network.enabled', parse: bool },
];

export function envOverrides(env: NodeJS.ProcessEnv, issues: ConfigIssue[]): Override[] {
  const out: Override[] = [];
  for (const o of ENV_OVERRIDES) {
    const raw = env[o.env];
    if (raw === undefined || raw === '') continue;
    try {
      out.push({ path: o.path.split('.'), value: o.parse(raw, o.env), origin: `env ${o.env}`, merge: o.merge });
    } catch (e) {
      issues.push({ severity: 'error', path: o.path, message: (e as Error).message, location: `env ${o.env}` });
    }
  }
  return out;
}

/** Flags the CLI accepts that set configuration keys. */
export interface ConfigFlags { mode?: string; logLevel?: string; logFormat?: string }

export function flagOverrides(flags: ConfigFlags): Override[] {
  const out: Override[] = [];
  if (flags.mode !== undefined) out.push({ path: ['mode'], value: flags.mode, origin: 'flag --mode' });
  if (flags.logLevel !== undefined) out.push({ path: ['log_level'], value: flags.logLevel, origin: 'flag --log-level' });
  if (flags.logFormat !== undefined) out.push({ path: ['log_format'], value: flags.logFormat, origin: 'flag --log-format' });
  return out;
}

export function applyOverride(target: Record<string, unknown>, o: Override): void {
  let node = target;
  for (const seg of o.path.slice(0, -1)) {
    if (typeof node[seg] !== 'object' || node[seg] === null || Array.isArray(node[seg])) node[seg] = {};
    node = node[seg] as Record<string, unknown>;
  }
  const last = o.path[o.path.length - 1]!;
  const cur = node[last];
  node[last] = o.merge && typeof cur === 'object' && cur !== null && !Array.isArray(cur)
    ? { ...(cur as object), ...(o.value as object) }
    : o.value;
}
