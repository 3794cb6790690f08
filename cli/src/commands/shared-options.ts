import type { OptionSpec } from '../command-spec.js';

/** `-o json|yaml` on every command that prints records */
export const OUTPUT_OPTION: OptionSpec = {
  name: 'output',
  short: 'o',
  value: 'FORMAT',
  help: 'json or yaml: the API\'s records, for scripts (default: a table for people)',
  complete: 'output',
};
