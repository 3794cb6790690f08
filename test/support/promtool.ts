// Prometheus' own checker, `promtool`, for the suites that check /metrics and deploy/monitoring/:
// found on PATH or installed by scripts/install-promtool.sh (Debian's `prometheus` package).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './cluster.js';

/** promtool's path, or why it is missing and could not be installed. */
export function findPromtool(): { path: string } | { unavailable: string } {
  const result = spawnSync('bash', [join(REPO_ROOT, 'scripts/install-promtool.sh')], { encoding: 'utf8', timeout: 600_000 });
  const path = result.stdout?.trim().split('\n').at(-1);
  if (result.status !== 0 || !path) {
    return { unavailable: result.stderr?.trim() || result.error?.message || 'scripts/install-promtool.sh failed' };
  }
  return { path };
}
