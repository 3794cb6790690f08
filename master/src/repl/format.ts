// The REPL prints with the console formatting it shares with the `wharf` CLI
// (proto/src/console-format.ts: colour only on a terminal and never with NO_COLOR, aligned
// tables, ages, control characters from task text made visible).
export {
  ago,
  cell,
  colourWanted,
  createStyle,
  distinctPrefixLength,
  fields,
  formatCpu,
  formatDuration,
  formatMap,
  formatResources,
  isoTime,
  showControls,
  table,
  usage,
  visibleLength,
  type Style,
} from '@wharf/proto/console-format';
