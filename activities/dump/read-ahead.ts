/** Row chunks the parallel restore's reader holds ahead of its sessions: in memory, then on disk. */
import { mkdir, mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Row chunks read ahead and waiting for a session, in memory, before they wait on disk. */
export const HELD_IN_MEMORY_BYTES = 64 * 1024 * 1024;

/** Where a waiting chunk's bytes are: in memory, or in a spill file until a session takes it. */
export type Held = { sql: Buffer } | { file: string; bytes: number };

/**
 * The chunks read ahead of the sessions. The reader goes on to the next tables while the
 * sessions load earlier ones, so that each session can take a table of its own
 * (SessionDispatcher); what does not fit in memory waits in files, up to half the folder's
 * free space, and beyond that the reader waits for the sessions.
 */
export class ReadAhead {
  private inMemory = 0;
  private onDisk = 0;
  private diskLimit: number | undefined;
  private dir: string | undefined;
  private files = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly spillParent: string | undefined,
    private readonly memoryLimit: number,
  ) {}

  async hold(sql: Buffer): Promise<Held> {
    for (;;) {
      if (this.inMemory + sql.length <= this.memoryLimit) {
        this.inMemory += sql.length;
        return { sql };
      }
      if (await this.diskFits(sql.length)) {
        const file = path.join(this.dir!, `chunk-${this.files + 1}.sql`);
        try {
          await writeFile(file, sql);
        } catch {
          // A full or failing disk is no reason to fail the restore (nor to blame the artifact):
          // the reader stops spilling and waits for the sessions, as without a folder.
          await rm(file, { force: true }).catch(() => undefined);
          this.diskLimit = 0;
          continue;
        }
        this.files++;
        this.onDisk += sql.length;
        return { file, bytes: sql.length };
      }
      // A chunk larger than the budget still goes, alone.
      if (this.inMemory === 0) {
        this.inMemory += sql.length;
        return { sql };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The chunk's bytes, for the session that took it. */
  async take(held: Held): Promise<Buffer> {
    if ('sql' in held) return held.sql;
    return readFile(held.file);
  }

  async done(held: Held): Promise<void> {
    if ('sql' in held) this.inMemory -= held.sql.length;
    else {
      this.onDisk -= held.bytes;
      await rm(held.file, { force: true });
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  async close(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  get spilledFiles(): number {
    return this.files;
  }

  private async diskFits(bytes: number): Promise<boolean> {
    if (this.spillParent === undefined) return false;
    if (this.diskLimit === undefined) {
      try {
        await mkdir(this.spillParent, { recursive: true });
        this.dir = await mkdtemp(path.join(this.spillParent, 'restore-read-ahead-'));
        const fsStats = await statfs(this.dir);
        this.diskLimit = Math.floor((fsStats.bavail * fsStats.bsize) / 2);
      } catch {
        this.diskLimit = 0;
      }
    }
    return this.onDisk + bytes <= this.diskLimit;
  }
}
