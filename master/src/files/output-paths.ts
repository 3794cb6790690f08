import { posix } from 'node:path';
import { WharfError } from '../errors.js';

/** Linux's limits, which Wharf keeps: a file or folder name, and a whole output path, in UTF-8 bytes. */
export const MAX_OUTPUT_NAME_BYTES = 255;
export const MAX_OUTPUT_PATH_BYTES = 4096;

/**
 * Normalises a task output path ("a/./b.txt" -> "a/b.txt") and refuses anything that could
 * leave the task's folder: absolute paths, ".." segments, backslashes, NUL, empty names; and
 * names over 255 bytes or paths over 4096 bytes.
 */
export function normaliseOutputPath(input: string): string {
  if (typeof input !== 'string' || input.length === 0) throw invalid(input, 'is empty');
  const bytes = Buffer.byteLength(input, 'utf8');
  if (bytes > MAX_OUTPUT_PATH_BYTES) throw invalid(input, `is ${bytes} bytes long; output paths may be at most ${MAX_OUTPUT_PATH_BYTES} bytes`);
  const longName = input.split('/').find((name) => Buffer.byteLength(name, 'utf8') > MAX_OUTPUT_NAME_BYTES);
  if (longName !== undefined) {
    throw invalid(input, `has a name of ${Buffer.byteLength(longName, 'utf8')} bytes; names may be at most ${MAX_OUTPUT_NAME_BYTES} bytes`);
  }
  if (input.includes('\0')) throw invalid(input, 'contains a NUL byte');
  if (input.includes('\\')) throw invalid(input, 'contains a backslash');
  if (input.startsWith('/')) throw invalid(input, 'is absolute');
  if (input.split('/').includes('..')) throw invalid(input, 'contains ".."');
  const normalised = posix.normalize(input).replace(/\/+$/, '');
  if (normalised === '.' || normalised === '' || normalised.startsWith('../')) throw invalid(input, 'names no file');
  return normalised;
}

function invalid(input: string, why: string): WharfError {
  const text = String(input);
  return new WharfError('validation_failed', `path: "${text.length > 200 ? `${text.slice(0, 200)}…` : text}" ${why}`);
}
