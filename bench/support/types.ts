// What every scenario answers: rows for the table and latest.json, plus correctness checks
// that the smoke test asserts (targets are reported, never asserted).
export interface MetricRow {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  /** the baseline or anchor measured (or quoted) for this metric; null when none */
  baseline: number | null;
  baselineLabel: string;
  /** value / baseline (or baseline / value for latencies, see `ratioNote`); null when no baseline */
  ratio: number | null;
  target: string;
  /** null when the metric has no target */
  met: boolean | null;
}

export interface ScenarioResult {
  scenario: string;
  title: string;
  rows: MetricRow[];
  /** correctness facts; the smoke test asserts these */
  checks: Record<string, number | boolean | string>;
  notes: string[];
  /** true when the scenario was skipped (and why is in notes) */
  skipped?: boolean;
}

/** A row that reports a figure with no baseline and no target (a latency, a CPU share). */
export function infoRow(scenario: string, metric: string, value: number, unit: string): MetricRow {
  return { scenario, metric, value, unit, baseline: null, baselineLabel: '', ratio: null, target: '', met: null };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export const median = (values: readonly number[]): number => percentile(values, 0.5);

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
