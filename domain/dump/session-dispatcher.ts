/** How the parallel restore spreads a dump's tables over its sessions. */

/** Sessions a sandbox is restored or checked with at once: one per core, two to four (one waits on the disk while another parses). */
export function parallelSessions(cpus: number): number {
  return Math.max(2, Math.min(4, cpus));
}

/**
 * Hands a restore's sessions to waiting jobs (a table's row chunks, a table's key build), oldest
 * first, with two exceptions:
 * - A job acquired `first` (a table's key build, once its rows are in) goes before every other
 *   waiting job: it then runs beside the other sessions' loads instead of after all of them, at
 *   the end, where one thread building keys would leave the other cores idle.
 * - A job not `shared` (the rows of a table that keeps secondary keys while it loads) waits
 *   while its table is being loaded, and a free session takes a younger job of another table:
 *   two sessions maintaining one table's secondary indexes contend for their pages and use more
 *   server CPU for the same rows. Only when every waiting job is held back so does it join one.
 * Rows that go into the clustered index alone (keys deferred, or none) are `shared`: several
 * sessions finish such a table together, in dump order, so each table's key build starts as
 * early as it can and overlaps the loads of the tables after it. A session keeping to a table
 * of its own would leave the biggest table's rows, and then its key build on one thread, for
 * the end.
 */
export class SessionDispatcher {
  private free: number;
  private readonly waiting: { table: string; grant: () => void; first: boolean; shared: boolean }[] = [];
  private readonly loading = new Map<string, number>();

  constructor(sessions: number) {
    this.free = sessions;
  }

  /** Resolves when a session is this job's; call `release(table)` when the job is done. */
  acquire(table: string, opts: { first?: boolean; shared?: boolean } = {}): Promise<void> {
    return new Promise<void>((grant) => {
      const job = { table, grant, first: opts.first === true, shared: opts.shared === true };
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
      let pick = this.waiting.findIndex((w) => w.shared || !this.loading.has(w.table));
      if (pick === -1) pick = 0;
      const [job] = this.waiting.splice(pick, 1);
      this.free--;
      this.loading.set(job.table, (this.loading.get(job.table) ?? 0) + 1);
      job.grant();
    }
  }
}
