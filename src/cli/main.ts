// Entry point of the `telegen` CLI: picks the command, parses its flags, maps failures to exit codes.
import { ExitCode } from '../agent/errors.js';
import { helpText, parse, UsageError, type Command } from './command.js';
import { completionCommand } from './commands/completion.js';
import { diagnosticsCommand } from './commands/diagnostics.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { versionCommand } from './commands/version.js';

export const commands = (): Command[] => [runCommand, versionCommand, validateCommand, diagnosticsCommand, completionCommand(commands)];

export function usage(): string {
  const rows = commands().map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n');
  return `telegen — unified eBPF telemetry agent

Usage: telegen [command] [flags]

Commands:
${rows}

Global flags (run): --config/-c FILE, --mode agent|collector, --log-level/-l LEVEL, --log-format json|text,
                    --version/-v, --help/-h

Exit codes: 0 success, 1 general error, 2 configuration error, 3 eBPF initialization error (when required),
            4 permission error, 5 export error.
`;
}

export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage());
    return ExitCode.OK;
  }
  if (first === '--version' || first === '-v') return versionCommand.run({ values: {}, positionals: [] });
  const named = first && !first.startsWith('-') ? commands().find((c) => c.name === first) : undefined;
  if (first && !first.startsWith('-') && !named) {
    process.stderr.write(`telegen: unknown command "${first}"\n\n${usage()}`);
    return ExitCode.GENERAL;
  }
  const cmd = named ?? runCommand;
  const rest = named ? argv.slice(1) : argv;
  try {
    const args = parse(cmd, rest);
    if (args.values.help) {
      process.stdout.write(helpText(cmd));
      return ExitCode.OK;
    }
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`telegen ${cmd.name}: ${e.message}\n\n${helpText(cmd)}`);
      return ExitCode.GENERAL;
    }
    throw e;
  }
}
