// A task whose logs and output files retention removed (WHARF_RETAIN_FILES, gc/garbage-collector.ts)
// keeps its record; asking for its logs or files answers 410 `gone` saying when and why,
// never an empty answer or a bare 404.
import { WharfError } from '../errors.js';
import type { Task } from '../records/task.js';

/** Throws `gone` when retention removed the task's logs and files. */
export function assertFilesKept(task: Pick<Task, 'id' | 'filesRemovedAt'>): void {
  if (task.filesRemovedAt === undefined) return;
  throw new WharfError(
    'gone',
    `task ${task.id}: its logs and output files were removed by retention at ${new Date(task.filesRemovedAt).toISOString()} (WHARF_RETAIN_FILES); the task record is kept`,
  );
}
