// THE one implementation of the `discovery.instrument` / `discovery.exclude` rules, used by every tracer
// through ProcessCatalog.shouldInstrument. A selector matches when every criterion it gives matches; a selector
// with no criterion matches nothing. Exclude wins over instrument; an empty instrument list selects every process.
import type { ProcessInfo } from './catalog.js';

export interface SelectorConfig {
  name?: string;
  open_ports?: string;
  exe_path?: string;
}

export interface CompiledSelector {
  readonly name?: string;
  matches(p: Pick<ProcessInfo, 'exePath' | 'ports'>): boolean;
}

/** "80,443,8000-8999" → list of inclusive ranges. Invalid parts are ignored (the schema validates the format). */
export function parsePortRanges(spec: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    out.push(lo <= hi ? [lo, hi] : [hi, lo]);
  }
  return out;
}

/** A glob over a whole path: `*` matches any run of characters (slashes included), `?` one, `[...]` a class. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function compileSelector(s: SelectorConfig): CompiledSelector {
  const ranges = s.open_ports !== undefined ? parsePortRanges(s.open_ports) : undefined;
  const exe = s.exe_path !== undefined ? globToRegExp(s.exe_path) : undefined;
  const empty = ranges === undefined && exe === undefined;
  return {
    name: s.name,
    matches(p) {
      if (empty) return false;
      if (ranges && !p.ports.some(({ port }) => ranges.some(([lo, hi]) => port >= lo && port <= hi))) return false;
      if (exe && (!p.exePath || !exe.test(p.exePath))) return false;
      return true;
    },
  };
}

export class SelectionRules {
  private readonly instrument: CompiledSelector[];
  private readonly exclude: CompiledSelector[];

  constructor(instrument: readonly SelectorConfig[], exclude: readonly SelectorConfig[], private readonly selfPid = process.pid) {
    this.instrument = instrument.map(compileSelector);
    this.exclude = exclude.map(compileSelector);
  }

  /** Whether tracers instrument this process. Telegen itself never is (it would trace its own exports). */
  shouldInstrument(p: Pick<ProcessInfo, 'pid' | 'exePath' | 'ports'>): boolean {
    if (p.pid === this.selfPid) return false;
    if (this.exclude.some((s) => s.matches(p))) return false;
    return this.instrument.length === 0 || this.instrument.some((s) => s.matches(p));
  }

  /** The service name the first matching instrument selector gives, if any. */
  nameFor(p: Pick<ProcessInfo, 'exePath' | 'ports'>): string | undefined {
    return this.instrument.find((s) => s.name && s.matches(p))?.name;
  }
}
