// `telegen completion <shell>`: completion scripts generated from the command registry.
import type { Command, FlagSpec } from '../command.js';
import { HELP_FLAG, UsageError } from '../command.js';

const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;

export function completionCommand(commands: () => Command[]): Command {
  return {
    name: 'completion',
    summary: 'Print a shell completion script.',
    usage: 'telegen completion bash|zsh|fish|powershell',
    flags: [],
    positionals: SHELLS,
    async run({ positionals }) {
      const shell = positionals[0];
      if (!shell || !(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`completion needs one of ${SHELLS.join(', ')}`);
      const cmds = commands();
      const gen = { bash, zsh, fish, powershell }[shell as (typeof SHELLS)[number]];
      process.stdout.write(gen(cmds));
      return 0;
    },
  };
}

const allFlags = (c: Command): FlagSpec[] => [...c.flags, HELP_FLAG];
const flagWords = (c: Command) => allFlags(c).flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);

function bash(cmds: Command[]): string {
  const cases = cmds.map((c) => {
    const valueCases = allFlags(c).filter((f) => f.type === 'string').map((f) => {
      const names = [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])].join('|');
      const body = f.values ? `COMPREPLY=( $(compgen -W "${f.values.join(' ')}" -- "$cur") )` : 'COMPREPLY=( $(compgen -f -- "$cur") )';
      return `        ${names}) ${body}; return ;;`;
    }).join('\n');
    const words = [...flagWords(c), ...(c.positionals ?? [])].join(' ');
    return `    ${c.name})\n      case "$prev" in\n${valueCases}\n      esac\n      COMPREPLY=( $(compgen -W "${words}" -- "$cur") ) ;;`;
  }).join('\n');
  return `# bash completion for telegen
_telegen() {
  local cur prev cmd i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i=1; i<COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [ -z "$cmd" ]; then
    COMPREPLY=( $(compgen -W "${cmds.map((c) => c.name).join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
  esac
}
complete -F _telegen telegen
`;
}

function zsh(cmds: Command[]): string {
  const sub = cmds.map((c) => `    '${c.name}:${c.summary.replace(/'/g, "'\\''")}'`).join('\n');
  const cases = cmds.map((c) => {
    const specs = allFlags(c).map((f) => {
      const desc = f.description.replace(/[[\]':]/g, ' ');
      const arg = f.type === 'string' ? (f.values ? `:${f.name}:(${f.values.join(' ')})` : `:${f.name}:_files`) : '';
      return f.short ? `'(-${f.short} --${f.name})'{-${f.short},--${f.name}}'[${desc}]${arg}'` : `'--${f.name}[${desc}]${arg}'`;
    });
    if (c.positionals) specs.push(`'1:arg:(${c.positionals.join(' ')})'`);
    return `    ${c.name}) _arguments ${specs.join(' \\\n      ')} ;;`;
  }).join('\n');
  return `#compdef telegen
_telegen() {
  local -a commands
  commands=(
${sub}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _telegen telegen
`;
}

function fish(cmds: Command[]): string {
  const lines = ['# fish completion for telegen', 'complete -c telegen -f'];
  const names = cmds.map((c) => c.name).join(' ');
  for (const c of cmds) lines.push(`complete -c telegen -n "not __fish_seen_subcommand_from ${names}" -a ${c.name} -d '${c.summary.replace(/'/g, "\\'")}'`);
  for (const c of cmds) {
    for (const f of allFlags(c)) {
      let line = `complete -c telegen -n "__fish_seen_subcommand_from ${c.name}" -l ${f.name}`;
      if (f.short) line += ` -s ${f.short}`;
      if (f.type === 'string') line += f.values ? ` -x -a '${f.values.join(' ')}'` : ' -r -F';
      lines.push(`${line} -d '${f.description.replace(/'/g, "\\'")}'`);
    }
    if (c.positionals) lines.push(`complete -c telegen -n "__fish_seen_subcommand_from ${c.name}" -a '${c.positionals.join(' ')}'`);
  }
  return lines.join('\n') + '\n';
}

function powershell(cmds: Command[]): string {
  const table = cmds.map((c) => `    '${c.name}' = @(${[...flagWords(c), ...(c.positionals ?? [])].map((w) => `'${w}'`).join(', ')})`).join('\n');
  return `# PowerShell completion for telegen
Register-ArgumentCompleter -Native -CommandName telegen -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $commands = @{
${table}
  }
  $words = $commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() }
  $sub = $words | Where-Object { $commands.ContainsKey($_) } | Select-Object -First 1
  if (-not $sub) { $candidates = $commands.Keys } else { $candidates = $commands[$sub] }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`;
}
