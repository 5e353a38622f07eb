// One registry of commands and flags: argument parsing, --help text and the shell completion scripts all
// read it, so they cannot drift apart.
import { parseArgs } from 'node:util';

export interface FlagSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  description: string;
  /** Values offered by shell completion. */
  values?: readonly string[];
  /** Completion offers file names. */
  file?: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** Positional argument values offered by completion (e.g. shells). */
  positionals?: readonly string[];
  run(args: ParsedArgs): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean', description: 'Show help.' };

export class UsageError extends Error {}

export function parse(cmd: Command, argv: string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const f of [...cmd.flags, HELP_FLAG]) options[f.name] = { type: f.type, ...(f.short ? { short: f.short } : {}) };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    for (const f of cmd.flags) {
      const v = values[f.name];
      if (f.values && typeof v === 'string' && !f.values.includes(v)) {
        throw new UsageError(`--${f.name} must be one of ${f.values.join(', ')}, got "${v}"`);
      }
    }
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
}

export function helpText(cmd: Command): string {
  const rows = [...cmd.flags, HELP_FLAG].map((f) => {
    const names = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'string' ? ` <${f.values ? f.values.join('|') : 'value'}>` : ''}`;
    return `  ${names.padEnd(38)} ${f.description}`;
  });
  return `${cmd.summary}\n\nUsage: ${cmd.usage}\n\nFlags:\n${rows.join('\n')}\n`;
}
