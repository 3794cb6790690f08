// Shell completion: `wharf completion bash|zsh` prints a script that asks `wharf __complete
// WORDS...` for the candidates, so the logic lives here once for both shells: commands and
// subcommands, options, option values (statuses, output formats, runtimes, contexts), and ids
// and names from the master (tasks, workers, DAG runs, tokens, join tokens), fetched with a short timeout
// and nothing at all when the master cannot be reached.
import { TASK_STATUSES } from './api-types.js';
import type { CommandSpec, CompletionKind, OptionSpec } from './command-spec.js';
import { OUTPUT_FORMATS } from './output.js';

export const BASH_SCRIPT = `# bash completion for wharf. Load it with:
#   source <(wharf completion bash)            (in ~/.bashrc)
#   wharf completion bash > /etc/bash_completion.d/wharf
_wharf_complete() {
  local IFS=$'\\n' cur="\${COMP_WORDS[COMP_CWORD]}"
  local -a words=("\${COMP_WORDS[@]:1:COMP_CWORD}")
  COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" __complete "\${words[@]}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _wharf_complete wharf
`;

export const ZSH_SCRIPT = `#compdef wharf
# zsh completion for wharf. Load it with:
#   source <(wharf completion zsh)             (in ~/.zshrc, after compinit)
#   wharf completion zsh > "\${fpath[1]}/_wharf"
_wharf() {
  local -a candidates
  candidates=("\${(@f)$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=("\${(@)candidates:#}")
  if (( \${#candidates} )); then
    compadd -a candidates
  else
    _files
  fi
}
if [[ "\${funcstack[1]}" == "_wharf" ]]; then
  _wharf "$@"
else
  compdef _wharf wharf
fi
`;

/** Where candidates from the config and the master come from (each may answer nothing). */
export interface CompletionSources {
  contexts(): string[];
  fromMaster(kind: 'task' | 'worker' | 'dag' | 'dagName' | 'token' | 'joinToken' | 'queue'): Promise<string[]>;
}

const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'context', value: 'NAME', help: '', complete: 'context' },
  { name: 'help', short: 'h', help: '' },
];

function takesValue(options: readonly OptionSpec[], word: string): OptionSpec | undefined {
  const match = word.startsWith('--') ? options.find((o) => `--${o.name}` === word) : options.find((o) => o.short && `-${o.short}` === word);
  return match?.value !== undefined ? match : undefined;
}

async function candidatesOf(kind: CompletionKind | undefined, commands: readonly CommandSpec[], sources: CompletionSources): Promise<string[]> {
  switch (kind) {
    case 'status':
      return [...TASK_STATUSES];
    case 'output':
      return [...OUTPUT_FORMATS];
    case 'runtime':
      return ['docker', 'kubernetes', 'exec'];
    case 'shell':
      return ['bash', 'zsh'];
    case 'context':
      return sources.contexts();
    case 'command':
      return topLevel(commands);
    case 'task':
    case 'worker':
    case 'dag':
    case 'dagName':
    case 'token':
    case 'joinToken':
    case 'queue':
      return sources.fromMaster(kind);
    default:
      return [];
  }
}

function topLevel(commands: readonly CommandSpec[]): string[] {
  return [...new Set(commands.filter((c) => !c.hidden).map((c) => c.name.split(' ')[0]!))];
}

/**
 * The candidates for the last of `words` (the words after `wharf`, the last one being typed,
 * possibly empty). Answers every candidate; the shell keeps those that start with it.
 */
export async function complete(words: readonly string[], commands: readonly CommandSpec[], sources: CompletionSources): Promise<string[]> {
  const current = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  // the words before: global options, the command's words, then its options and arguments
  const plain: string[] = [];
  let command: CommandSpec | undefined;
  let group: string | undefined;
  let positionals = 0;
  for (let i = 0; i < before.length; i += 1) {
    const word = before[i]!;
    const options = [...(command?.options ?? []), ...GLOBAL_OPTIONS];
    if (word.startsWith('-') && word !== '-') {
      if (takesValue(options, word) && !word.includes('=')) i += 1;
      continue;
    }
    if (command) {
      positionals += 1;
      continue;
    }
    plain.push(word);
    const name = plain.join(' ');
    command = commands.find((c) => c.name === name && !c.hidden);
    if (!command && commands.some((c) => c.name.startsWith(`${name} `))) group = name;
    else if (!command) return []; // an unknown command: nothing sensible to offer
  }
  const options = [...(command?.options ?? []), ...GLOBAL_OPTIONS];
  const previous = before[before.length - 1];
  const valueOf = previous !== undefined ? takesValue(options, previous) : undefined;
  if (valueOf) return candidatesOf(valueOf.complete, commands, sources);
  if (current.startsWith('-')) return options.map((o) => `--${o.name}`);
  if (!command) {
    if (group) return commands.filter((c) => c.name.startsWith(`${group} `) && !c.hidden).map((c) => c.name.slice(group!.length + 1));
    return topLevel(commands);
  }
  const kind = command.args[positionals] ?? (command.variadic ? command.args[command.args.length - 1] : undefined);
  return candidatesOf(kind, commands, sources);
}
