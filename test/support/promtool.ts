// Prometheus' own checker, `promtool`, and its server, for the suites that check /metrics and
// deploy/monitoring/: found on PATH or installed by scripts/install-promtool.sh (Debian's
// `prometheus` package has both).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/**
 * The Prometheus server of the same Debian package (scripts/install-promtool.sh installs it
 * with promtool), to scrape a test master and evaluate the alert rules for real.
 */
export function findPrometheus(): { path: string } | { unavailable: string } {
  const promtool = findPromtool();
  if ('unavailable' in promtool) return promtool;
  const path = join(dirname(promtool.path), 'prometheus');
  return existsSync(path) ? { path } : { unavailable: `no prometheus server beside ${promtool.path}` };
}
