// `--help` text, made from the command table (command-spec.ts).
import type { CommandSpec, OptionSpec } from './command-spec.js';

export interface Section {
  title: string;
  commands: string[];
}

/** `-o, --output FORMAT` */
function optionLabel(option: OptionSpec): string {
  const long = `--${option.name}${option.value ? ` ${option.value}` : ''}`;
  return option.short ? `-${option.short}, ${long}` : `    ${long}`;
}

function optionLines(options: readonly OptionSpec[]): string[] {
  const width = Math.max(...options.map((o) => optionLabel(o).length));
  return options.map((o) => `  ${optionLabel(o).padEnd(width)}  ${o.help}`);
}

export const GLOBAL_HELP_OPTIONS: OptionSpec[] = [
  { name: 'context', value: 'NAME', help: 'use this saved context (master) instead of the current one (also WHARF_CONTEXT)' },
  { name: 'help', short: 'h', help: 'this help' },
];

export function commandHelp(command: CommandSpec): string {
  const parts = [`Usage: wharf ${command.usage}`, '', command.summary];
  if (command.description) parts.push('', command.description);
  parts.push('', 'Options:', ...optionLines([...command.options, ...GLOBAL_HELP_OPTIONS]));
  if (command.examples?.length) parts.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return `${parts.join('\n')}\n`;
}

export function groupHelp(group: string, summary: string, commands: readonly CommandSpec[]): string {
  const members = commands.filter((c) => c.name.startsWith(`${group} `) && !c.hidden);
  const width = Math.max(...members.map((c) => c.usage.length));
  return [
    `Usage: wharf ${group} COMMAND`,
    '',
    summary,
    '',
    'Commands:',
    ...members.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    `Run 'wharf ${group} COMMAND --help' for a command's options.`,
    '',
  ].join('\n');
}

export function rootHelp(sections: readonly Section[], commands: readonly CommandSpec[], groups: ReadonlyMap<string, string>): string {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const rows = sections.map((section) => ({
    title: section.title,
    rows: section.commands.map((name) => {
      const command = byName.get(name);
      if (command) return [command.usage.replace(/ \[-o json\|yaml\]$/, ''), command.summary] as const;
      return [`${name} …`, groups.get(name) ?? ''] as const;
    }),
  }));
  const width = Math.min(38, Math.max(...rows.flatMap((s) => s.rows.map(([usage]) => usage.length))));
  const line = ([usage, summary]: readonly [string, string]) =>
    usage.length > width ? `  ${usage}\n  ${' '.repeat(width)}  ${summary}` : `  ${usage.padEnd(width)}  ${summary}`;
  return [
    'wharf: the command-line client of a Wharf master (REST API and WebSockets)',
    '',
    'Usage: wharf [--context NAME] COMMAND [OPTIONS] [ARGUMENTS]',
    '',
    ...rows.flatMap((s) => [`${s.title}:`, ...s.rows.map(line), '']),
    'Global options:',
    ...optionLines([...GLOBAL_HELP_OPTIONS, { name: 'version', help: 'the CLI\'s version' }]),
    '',
    'A unique prefix of a task or DAG run id is enough; a worker is named by its name or id prefix.',
    'Commands that print records take -o json or -o yaml (the API\'s own records) for scripts.',
    '',
    'Environment:',
    '  WHARF_URL, WHARF_TOKEN   the master and token to use, overriding the saved context (a saved',
    '                           token is only sent to its own server); several masters: a comma',
    '                           list of URLs, tried in turn when one is down or has no leader',
    '  WHARF_CACERT             a CA certificate file (PEM) to trust for an https master',
    '  WHARF_CONTEXT            the saved context to use',
    '  WHARF_CONFIG             the config file (~/.config/wharf/config.json)',
    '  NO_COLOR                 no colours (colours are only used on a terminal anyway)',
    '',
    'Exit status: 0 done; 1 an error from the API, the network or the config (the message and',
    'its code on stderr); 2 a usage error; 130 interrupted. `wharf run` exits with the task\'s code.',
    '',
    "Run 'wharf COMMAND --help' for a command's options and examples. Docs: docs/CLI.md.",
    '',
  ].join('\n');
}
