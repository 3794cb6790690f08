// The worker's last proven contact with the master, kept in <dataDir>/last-contact.json so
// that a worker restarted while cut off from the master still stops the tasks it recovers in
// time (the master's fencing bound runs from the last time it heard from the previous process).
// Written at most once a second: a stale record is older than the truth, so the restarted
// worker stops its tasks sooner, never later.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { z } from 'zod';

export interface ContactRecord {
  /** wall-clock ms of the last proven contact */
  lastContactAtMs: number;
  /** the stop-after that applied then */
  stopAfterMs: number;
}

const ContactRecordSchema = z.object({ lastContactAtMs: z.number(), stopAfterMs: z.number().positive() });
const MIN_WRITE_INTERVAL_MS = 1000;

export async function readContactRecord(file: string): Promise<ContactRecord | undefined> {
  try {
    return ContactRecordSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return undefined; // none yet, or unreadable: as if this worker never had contact
  }
}

export class ContactRecorder {
  private writtenAt = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  /** Notes a newer contact; written now, or with the next contact once a second has passed. */
  note(record: ContactRecord): void {
    if (this.writing || Date.now() - this.writtenAt < MIN_WRITE_INTERVAL_MS) return;
    this.writtenAt = Date.now();
    this.writing = this.write(record).finally(() => {
      this.writing = undefined;
    });
  }

  /** Waits for a write in flight (on stop). */
  async flush(): Promise<void> {
    await this.writing;
  }

  private async write(record: ContactRecord): Promise<void> {
    const tmp = `${this.file}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
      await rename(tmp, this.file);
    } catch (error: unknown) {
      this.logger.warn({ err: error, file: this.file }, 'cannot record the last contact with the master');
    }
  }
}
