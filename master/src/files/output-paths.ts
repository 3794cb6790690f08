import { posix } from 'node:path';
import { WharfError } from '../errors.js';

/**
 * Normalises a task output path ("a/./b.txt" -> "a/b.txt") and refuses anything that could
 * leave the task's folder: absolute paths, ".." segments, backslashes, NUL, empty names.
 */
export function normaliseOutputPath(input: string): string {
  if (typeof input !== 'string' || input.length === 0) throw invalid(input, 'is empty');
  if (input.length > 1024) throw invalid(input, 'is longer than 1024 characters');
  if (input.includes('\0')) throw invalid(input, 'contains a NUL byte');
  if (input.includes('\\')) throw invalid(input, 'contains a backslash');
  if (input.startsWith('/')) throw invalid(input, 'is absolute');
  if (input.split('/').includes('..')) throw invalid(input, 'contains ".."');
  const normalised = posix.normalize(input).replace(/\/+$/, '');
  if (normalised === '.' || normalised === '' || normalised.startsWith('../')) throw invalid(input, 'names no file');
  return normalised;
}

function invalid(input: string, why: string): WharfError {
  return new WharfError('validation_failed', `path: "${String(input).slice(0, 200)}" ${why}`);
}
