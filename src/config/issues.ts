/** One problem found in a configuration: where (key path and source position), what was expected and found. */
export interface ConfigIssue {
  severity: 'error' | 'warning';
  /** Dotted key path, e.g. `otlp.protocol` or `discovery.instrument[0].open_ports`. */
  path: string;
  message: string;
  expected?: string;
  found?: string;
  /** `config.yaml:12:5`, or `env TELEGEN_MODE`, or `flag --mode`. */
  location?: string;
  line?: number;
  column?: number;
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.location ? `${i.location}: ` : '';
  const what = i.path ? `${i.path}: ` : '';
  const detail = [i.expected !== undefined ? `expected ${i.expected}` : '', i.found !== undefined ? `found ${i.found}` : '']
    .filter(Boolean).join(', ');
  return `${where}${i.severity}: ${what}${i.message}${detail ? ` (${detail})` : ''}`;
}

/** Thrown when a configuration has errors; carries every issue found, not just the first. */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.filter((i) => i.severity === 'error').map(formatIssue).join('\n') || 'invalid configuration');
    this.name = 'ConfigError';
  }
}

export function pathToString(path: readonly (string | number)[]): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}
