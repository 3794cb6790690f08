// How Wharf prints for people, shared by the master's REPL and the `wharf` CLI: colour (only on
// a terminal, never with NO_COLOR), aligned tables, ages, sizes. Text that came from users (task
// names, reasons, logs) is shown with its control characters made visible on a terminal, so a
// task cannot move the operator's cursor or rewrite the screen. Pure: no I/O, no dependencies
// beyond ./units.js, so the CLI bundles it without pulling in gRPC.
import { formatBytes } from './units.js';

/** A resource bag as tasks and workers carry it (cpu in cores, memory and disk in bytes). */
export interface ResourceAmounts {
  cpu: number;
  memory: number;
  gpu: number;
  disk: number;
}

export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  /** a task, attempt, worker or join token status in its colour */
  status(status: string): string;
}

/** Colour when the output is a terminal and NO_COLOR is unset or empty (no-color.org). */
export function colourWanted(output: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(output.isTTY) && !env.NO_COLOR;
}

const STATUS_COLOURS: Record<string, keyof Omit<Style, 'enabled' | 'status'>> = {
  queued: 'yellow',
  assigned: 'yellow',
  draining: 'yellow',
  cancelling: 'yellow',
  running: 'cyan',
  succeeded: 'green',
  ready: 'green',
  failed: 'red',
  timed_out: 'red',
  error: 'red',
  lost: 'red',
  stopped: 'yellow',
  preempting: 'yellow',
  preempted: 'yellow',
  cancelled: 'dim',
  pending: 'dim',
  upstream_failed: 'red',
  // join tokens
  active: 'green',
  expired: 'dim',
  used_up: 'dim',
  revoked: 'red',
};

export function createStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (text: string) => (enabled && text ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  const style: Style = {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    status: (status) => {
      const colour = STATUS_COLOURS[status];
      return colour ? style[colour](status) : status;
    },
  };
  return style;
}

const ANSI = /\x1b\[[0-9;]*m/g;

export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** Control characters (escape sequences, carriage returns...) shown as ^X; tab and newline kept. */
export function showControls(text: string): string {
  return text.replace(CONTROL, (c) => `^${String.fromCharCode(c.charCodeAt(0) ^ 0x40)}`);
}

/** One cell of user text: single line, controls visible, cut to `max` characters. */
export function cell(text: string | undefined, max = 60): string {
  if (text === undefined || text === '') return '-';
  const flat = showControls(text.replace(/\r?\n/g, ' ').replace(/\t/g, ' '));
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Columns aligned by their visible width; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], style: Style): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[], header: boolean) =>
    cells
      .map((c, i) => {
        const text = header ? style.dim(c) : c;
        return i === cells.length - 1 ? text : text + ' '.repeat(Math.max(0, widths[i]! - visibleLength(c)));
      })
      .join('  ')
      .trimEnd();
  return [line(headers, true), ...rows.map((r) => line(r, false))].join('\n');
}

/** "key: value" lines with the keys aligned. */
export function fields(pairs: readonly (readonly [string, string])[], style: Style): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${style.dim(`${k}:`.padEnd(width + 1))} ${v}`).join('\n');
}

/** 4s, 3m 20s, 2h 5m, 3d 4h */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

export function ago(at: number | undefined, now: number): string {
  return at === undefined ? '-' : `${formatDuration(now - at)} ago`;
}

export function isoTime(at: number | undefined): string {
  return at === undefined ? '-' : new Date(at).toISOString();
}

export function formatCpu(cores: number): string {
  return String(Number(cores.toFixed(3)));
}

export function formatResources(r: ResourceAmounts): string {
  const parts = [`cpu ${formatCpu(r.cpu)}`, `memory ${formatBytes(r.memory)}`];
  if (r.gpu) parts.push(`gpu ${r.gpu}`);
  if (r.disk) parts.push(`disk ${formatBytes(r.disk)}`);
  return parts.join(', ');
}

/** "used/total" for one resource dimension */
export function usage(used: number, total: number, kind: 'cpu' | 'bytes' | 'count'): string {
  const f = kind === 'bytes' ? formatBytes : kind === 'cpu' ? formatCpu : String;
  return `${f(used)}/${f(total)}`;
}

export function formatMap(map: Readonly<Record<string, string>>): string {
  const entries = Object.entries(map);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/**
 * The shortest prefix length (at least `min`) that tells every id in the list apart, so the
 * tables show ids that can be typed back.
 */
export function distinctPrefixLength(ids: readonly string[], min = 8): number {
  const sorted = [...ids].sort();
  let length = min;
  for (let i = 1; i < sorted.length; i += 1) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    let common = 0;
    while (common < a.length && a[common] === b[common]) common += 1;
    if (a !== b) length = Math.max(length, common + 1);
  }
  return length;
}
