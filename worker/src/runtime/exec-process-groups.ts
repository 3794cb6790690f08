// The process groups of exec tasks, recorded in the worker's data dir so that a restarted
// worker can kill what an earlier worker process left running. One file per attempt,
// <dir>/<attemptId>.json, written when the task starts and removed when its group is gone.
// A record names the group (its leader's pid) and the leader's start time in clock ticks since
// boot (/proc/<pid>/stat field 22), so a pid reused by an unrelated process is never killed.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';

export interface ProcessGroupRecord {
  attemptId: string;
  taskId: string;
  /** the group's id: the pid of its leader (the task's main process) */
  pgid: number;
  /** the leader's start time, clock ticks since boot; undefined where /proc cannot tell */
  startTicks?: string | undefined;
  startedAtMs: number;
}

const RecordSchema = z.object({
  attemptId: z.string().min(1),
  taskId: z.string(),
  pgid: z.number().int().positive(),
  startTicks: z.string().optional(),
  startedAtMs: z.number(),
});

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
async function statFields(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A process's start time in clock ticks since boot (field 22), or undefined when it is gone or /proc is absent. */
export async function processStartTicks(pid: number): Promise<string | undefined> {
  // fields after the name start at field 3 (state): field 22 is index 19
  return (await statFields(pid))?.[19];
}

/** A live (not zombie) process's group id (field 5), or undefined. */
async function liveGroupOf(pid: number): Promise<number | undefined> {
  const fields = await statFields(pid);
  if (!fields || fields[0] === 'Z' || fields[2] === undefined) return undefined;
  return Number(fields[2]);
}

/** Whether a process runs with WHARF_ATTEMPT_ID=<attemptId> in its environment. */
async function runsAttempt(pid: number, attemptId: string): Promise<boolean> {
  try {
    const environ = await readFile(`/proc/${pid}/environ`);
    return environ.toString('utf8').split('\0').includes(`WHARF_ATTEMPT_ID=${attemptId}`);
  } catch {
    return false;
  }
}

export class ProcessGroupRecords {
  constructor(
    private readonly dir: string,
    private readonly logger?: Logger,
  ) {}

  private fileOf(attemptId: string): string {
    if (!SAFE_NAME.test(attemptId)) throw new Error(`attempt id ${JSON.stringify(attemptId)} cannot name a file`);
    return path.join(this.dir, `${attemptId}.json`);
  }

  /** Records a group that now runs (written atomically: a crash leaves the old file or the new one). */
  async add(record: ProcessGroupRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileOf(record.attemptId);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
    await rename(tmp, file);
  }

  async remove(attemptId: string): Promise<void> {
    await rm(this.fileOf(attemptId), { force: true });
  }

  /** Every record left in the folder (unreadable ones are removed). */
  async list(): Promise<ProcessGroupRecord[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (error: unknown) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
      throw error;
    }
    const records: ProcessGroupRecord[] = [];
    for (const entry of entries) {
      const file = path.join(this.dir, entry);
      if (!entry.endsWith('.json')) {
        if (entry.endsWith('.tmp')) await rm(file, { force: true });
        continue;
      }
      try {
        records.push(RecordSchema.parse(JSON.parse(await readFile(file, 'utf8'))));
      } catch (error: unknown) {
        this.logger?.warn({ err: error, file }, 'unreadable process group record; removing it');
        await rm(file, { force: true });
      }
    }
    return records;
  }

  /**
   * Kills the group of a record if it still holds live processes of that attempt: its leader
   * with the recorded start time, or (the leader gone, or a zombie nobody reaped) members that
   * run with the attempt's WHARF_ATTEMPT_ID. Answers whether anything was signalled.
   */
  async kill(record: ProcessGroupRecord): Promise<boolean> {
    const leader = await statFields(record.pgid);
    let ours: boolean;
    if (leader !== undefined && leader[0] !== 'Z') {
      // the leader's pid lives: the same process only if it started when ours did
      ours = record.startTicks !== undefined && leader[19] === record.startTicks;
    } else if (leader !== undefined && leader[19] !== record.startTicks) {
      ours = false; // a zombie of another process that reused the pid
    } else {
      // a group id stays taken while members live, so members with this pgid are the old
      // task's, which their environment confirms
      ours = await this.hasMemberOf(record);
    }
    if (!ours) return false;
    try {
      process.kill(-record.pgid, 'SIGKILL');
      return true;
    } catch {
      return false; // gone meanwhile
    }
  }

  private async hasMemberOf(record: ProcessGroupRecord): Promise<boolean> {
    let pids: string[];
    try {
      pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
    } catch {
      return false; // no /proc: nothing can be confirmed
    }
    for (const name of pids) {
      const pid = Number(name);
      if ((await liveGroupOf(pid)) === record.pgid && (await runsAttempt(pid, record.attemptId))) return true;
    }
    return false;
  }
}
