// Scenario d: output upload. The container writes one random file to /output and prints its
// sha256; we time container exit (the attempt's finishedAt) to the file being listed by the
// master, against a plain fs.copyFile of the same size on the same disk, and check the sha256
// of the downloaded bytes.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskBody } from '../../test/support/api-client.js';
import { TEST_IMAGE, startDockerProcessCluster } from '../support/docker-cluster.js';
import { round, sleep, type ScenarioResult, infoRow } from '../support/types.js';

export interface UploadOptions {
  bytes: number;
}

function copyBaselineMBps(bytes: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-copy-'));
  try {
    const source = join(dir, 'src.bin');
    const chunk = randomBytes(Math.min(bytes, 16 * 1024 * 1024));
    const parts: Buffer[] = [];
    for (let written = 0; written < bytes; written += chunk.length) parts.push(chunk.subarray(0, Math.min(chunk.length, bytes - written)));
    writeFileSync(source, Buffer.concat(parts));
    const start = performance.now();
    copyFileSync(source, join(dir, 'dst.bin'));
    return bytes / 1e6 / ((performance.now() - start) / 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runUploadScenario(options: UploadOptions): Promise<ScenarioResult> {
  const baseline = copyBaselineMBps(options.bytes);
  const cluster = await startDockerProcessCluster();
  try {
    const response = await cluster.user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: ['sh', '-c', `head -c ${options.bytes} /dev/urandom > /output/big.bin && sha256sum /output/big.bin`],
      name: 'upload-bench',
      resources: { cpu: 1, memory: '256Mi' },
    });
    if (response.status !== 201) throw new Error(`submit failed: ${response.status} ${response.text}`);
    const id = response.body.task.id;
    // poll the listing every 5 ms from submission until the file shows up (bounded)
    let listedAt = 0;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const files = await cluster.user.request<{ files: { path: string }[] }>('GET', `/api/files/${id}`);
      if (files.status === 200 && files.body.files.some((f) => f.path === 'big.bin')) {
        listedAt = Date.now();
        break;
      }
      await sleep(5);
    }
    if (!listedAt) throw new Error('output file not listed within 300 s');
    await cluster.waitForTerminal(id, 60_000);
    const detail = (await cluster.user.request<{ task: TaskBody & { attempts: { finishedAt: string | null }[] } }>('GET', `/api/tasks/${id}`)).body.task;
    const exitedAt = Date.parse(detail.attempts[0]?.finishedAt ?? '');
    const seconds = Math.max(0.001, (listedAt - exitedAt) / 1000);
    const mbps = options.bytes / 1e6 / seconds;

    const download = await cluster.user.bytes(`/api/files/${id}/download/big.bin`);
    const downloadedSha = createHash('sha256').update(download.data).digest('hex');
    const logs = await cluster.user.request('GET', `/api/tasks/${id}/logs`);
    const containerSha = /^([0-9a-f]{64})\s/m.exec(logs.text)?.[1] ?? '';
    const listedSha = detail.files.find((f) => f.path === 'big.bin')?.sha256 ?? '';
    const ratio = mbps / baseline;
    return {
      scenario: 'd',
      title: `output upload (${round(options.bytes / 1024 ** 2, 1)} MiB from /output)`,
      rows: [
        {
          scenario: 'd',
          metric: 'exit->listed throughput',
          value: round(mbps, 1),
          unit: 'MB/s',
          baseline: round(baseline, 1),
          baselineLabel: 'fs.copyFile same disk',
          ratio: round(ratio, 3),
          target: '>= 0.5',
          met: ratio >= 0.5,
        },
        infoRow('d', 'exit->listed time', round(seconds * 1000, 0), 'ms'),
      ],
      checks: {
        bytes: options.bytes,
        downloadedBytes: download.data.length,
        shaMatches: downloadedSha === containerSha && downloadedSha === listedSha,
        status: detail.status,
        attempts: detail.attempts.length,
      },
      notes: ['exit = the attempt finishedAt reported by the worker; listed = first GET /api/files/:id showing the file (polled every 5 ms)'],
    };
  } finally {
    await cluster.stop();
  }
}
