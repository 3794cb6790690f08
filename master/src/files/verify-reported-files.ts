// The master believes bytes, not claims (issue 12 point 5): an attempt's files are what the
// master received and hashed itself. A result whose file list disagrees with that (another
// size or sha256, a file that never arrived, an invalid path) or an attempt whose outputs
// passed their cap fails, with a reason naming the file and both sides.
import { WharfError } from '../errors.js';
import type { ReportedFile } from '../records/output-file.js';
import type { ReceivedFile } from './output-ledger.js';
import { normaliseOutputPath } from './output-paths.js';

/** What the master received for an attempt (FileStore.received). */
export interface ReceivedOutputs {
  files: readonly ReceivedFile[];
  /** set when the attempt's outputs passed their cap */
  refusal?: string | undefined;
}


/**
 * `files`: what becomes the task's files, always the master's records. Verified: the files the
 * result lists (a file received but not listed is dropped). Failed: every file received, as for
 * any failed attempt, and `failure` says why the attempt fails.
 */
export type VerifiedFiles = { files: ReceivedFile[] } | { files: ReceivedFile[]; failure: string };

/** At most this many problems are spelled out in a reason; the rest are counted. */
const MAX_LISTED_PROBLEMS = 3;

export function verifyReportedFiles(received: ReceivedOutputs, claimed: readonly ReportedFile[]): VerifiedFiles {
  const all = [...received.files];
  if (received.refusal !== undefined) return { files: all, failure: received.refusal };
  const byPath = new Map(all.map((file) => [file.path, file]));
  const problems: string[] = [];
  const verified = new Map<string, ReceivedFile>();
  for (const claim of claimed) {
    let path: string;
    try {
      path = normaliseOutputPath(claim.path);
    } catch (error: unknown) {
      problems.push(`the result lists an invalid file (${WharfError.from(error).message})`);
      continue;
    }
    const got = byPath.get(path);
    if (!got) {
      problems.push(`file ${path} is listed in the result (${claim.size} bytes, sha256 ${claim.sha256 || 'none'}) but never arrived`);
      continue;
    }
    if (got.size !== claim.size || got.sha256 !== claim.sha256.toLowerCase()) {
      problems.push(
        `file ${path}: the result claims ${claim.size} bytes with sha256 ${claim.sha256 || 'none'}, ` +
          `the master received ${got.size} bytes with sha256 ${got.sha256}`,
      );
      continue;
    }
    verified.set(path, got);
  }
  if (problems.length === 0) return { files: [...verified.values()] };
  const shown = problems.slice(0, MAX_LISTED_PROBLEMS).join('; ');
  const more = problems.length - MAX_LISTED_PROBLEMS;
  return { files: all, failure: `result does not match the uploaded files: ${shown}${more > 0 ? `; and ${more} more` : ''}` };
}
