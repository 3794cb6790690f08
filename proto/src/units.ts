// Resource quantities as people write them ("512Mi", "2Gi", "1.5G", 1048576) and as the wire
// carries them (bytes, cores), and durations ("5s", "12h"). Shared by master, worker and the
// `wharf` CLI so every side parses alike.

const BYTE_SUFFIXES: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses a byte quantity: a non-negative integer number of bytes, or a decimal number with a
 * suffix (K, M, G, T are powers of 1000; Ki, Mi, Gi, Ti powers of 1024; case-insensitive).
 * Returns undefined when the input is not a quantity.
 */
export function parseBytes(input: string | number): number | undefined {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!match) return undefined;
  const factor = BYTE_SUFFIXES[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  const value = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Formats bytes for people: 1536 -> "1.5Ki", 2147483648 -> "2Gi". */
export function formatBytes(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
  return `${text.replace(/\.0$/, '')}${units[unit]}${unit === 0 ? 'B' : ''}`;
}

/**
 * Parses a CPU quantity in cores: 2, 0.5, "1.5", or Kubernetes-style millicores "500m".
 * Returns undefined when the input is not a positive finite quantity (0 is allowed).
 */
export function parseCpu(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined;
  const milli = /^\s*(\d+)m\s*$/.exec(input);
  if (milli) return Number(milli[1]) / 1000;
  const match = /^\s*(\d+(?:\.\d+)?)\s*$/.exec(input);
  return match ? Number(match[1]) : undefined;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "5s", "1.5m", "12h", "2d", or a plain number of milliseconds. */
export function parseDurationMs(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] ?? 1));
}

/** A duration as parseDurationMs reads it back, for messages that name a setting: 250ms, 1.5s, 15s, 10m. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}
