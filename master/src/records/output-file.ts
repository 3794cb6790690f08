// Output files: what a worker says it uploaded, and a task's file as the master keeps it.
// (Records: the ground floor; they import only each other.)

/** One file of an attempt's upload: its path under /output, size and sha256. */
export interface ReportedFile {
  path: string;
  size: number;
  sha256: string;
}

/** One of a task's output files, as stored (files/file-store.ts keeps the bytes). */
export interface OutputFileRecord {
  taskId: string;
  userId: string;
  attemptId: string;
  path: string;
  size: number;
  sha256: string;
  createdAt: number;
}
