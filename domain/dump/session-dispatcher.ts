/** How the parallel restore spreads a dump's tables over its sessions. */

/** Sessions a sandbox is restored or checked with at once: one per core, two to four (one waits on the disk while another parses). */
export function parallelSessions(cpus: number): number {
  return Math.max(2, Math.min(4, cpus));
}

/**
 * Hands a restore's sessions to waiting jobs (a table's row chunks, a table's key build).
 * A free session goes to the oldest job whose table no session is loading; only when every
 * waiting job's table is already being loaded does it join one (the oldest): two sessions
 * appending to one table contend for its index pages and use more server CPU for the same rows.
 * In dump order, with a reader ahead of the loaders, each session keeps to a table of its own
 * until only the last one is left, which they then share. A job acquired `first` (a table's key
 * build, once its rows are in) goes before every other waiting job: it then runs beside the other
 * sessions' loads instead of after all of them, at the end, where one thread building keys would
 * leave the other cores idle.
 */
export class SessionDispatcher {
  private free: number;
  private readonly waiting: { table: string; grant: () => void; first: boolean }[] = [];
  private readonly loading = new Map<string, number>();

  constructor(sessions: number) {
    this.free = sessions;
  }

  /** Resolves when a session is this job's; call `release(table)` when the job is done. */
  acquire(table: string, opts: { first?: boolean } = {}): Promise<void> {
    return new Promise<void>((grant) => {
      const job = { table, grant, first: opts.first === true };
      // Behind the other `first` jobs, before the rest.
      const at = job.first ? this.waiting.findIndex((w) => !w.first) : -1;
      if (at === -1) this.waiting.push(job);
      else this.waiting.splice(at, 0, job);
      this.pump();
    });
  }

  release(table: string): void {
    const n = (this.loading.get(table) ?? 1) - 1;
    if (n > 0) this.loading.set(table, n);
    else this.loading.delete(table);
    this.free++;
    this.pump();
  }

  /** Jobs waiting for a session. */
  get pending(): number {
    return this.waiting.length;
  }

  private pump(): void {
    while (this.free > 0 && this.waiting.length > 0) {
      let pick = this.waiting.findIndex((w) => !this.loading.has(w.table));
      if (pick === -1) pick = 0;
      const [job] = this.waiting.splice(pick, 1);
      this.free--;
      this.loading.set(job.table, (this.loading.get(job.table) ?? 0) + 1);
      job.grant();
    }
  }
}
