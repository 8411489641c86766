/**
 * What a running drill shows outside: the `progress` query (status, phases so far, the sandbox
 * and, once written, the report) and the signals that end or extend a kept sandbox.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import type { SandboxHandle } from '../../activities';
import type { DrillReport, PhaseTiming } from '../../domain/report/report';
import type { WorkHeartbeat } from '../../domain/progress/work';

export type DrillStatus = 'running' | 'kept' | 'cleaning' | 'done';

export interface DrillProgress {
  status: DrillStatus;
  current?: string;
  phases: PhaseTiming[];
  sandbox?: { name: string; socketPath: string; expiresAt: string; host?: string };
  report?: DrillReport;
  /**
   * Bytes and rows of the running long phases, from their activities' last heartbeats: filled
   * in by the client (client/drills.ts drillProgress), never by the workflow, which cannot see heartbeats.
   */
  work?: WorkHeartbeat[];
  /** A bisect's search so far (workflows/bisect): the range still open and the steps taken. */
  bisect?: BisectProgress;
}

export interface BisectProgress {
  /** Transactions in the window searched. */
  window: number;
  /** The open range: the culprit is one of transactions from..to of the window. */
  range: { from: number; to: number; transactions: number };
  /** Where the sandbox stands (transactions applied) and what it does now. */
  at: number;
  doing?: string;
  steps: number;
  replays: number;
  transactionsReplayed: number;
  snapshots: number;
  rewinds: number;
}

export const progressQuery = defineQuery<DrillProgress>('progress');
/** Releases a kept sandbox now. */
export const releaseSignal = defineSignal('release');
/** Keeps a kept sandbox this many more seconds. */
export const extendSignal = defineSignal<[number]>('extend');

/** The drill's progress, answered to queries, and the handling of release and extend. */
export class ProgressBoard {
  readonly progress: DrillProgress = { status: 'running', phases: [] };
  /** Phases may overlap (the restore runs while the replay is planned): `current` is the newest still running. */
  private readonly running: string[] = [];
  private releaseRequested = false;
  private expiresAtMs = 0;

  constructor() {
    setHandler(progressQuery, () => this.progress);
    setHandler(releaseSignal, () => void (this.releaseRequested = true));
    setHandler(extendSignal, (seconds: number) => {
      this.expiresAtMs = Math.max(this.expiresAtMs, Date.now()) + seconds * 1000;
      if (this.progress.sandbox) this.progress.sandbox.expiresAt = new Date(this.expiresAtMs).toISOString();
    });
  }

  get phases(): PhaseTiming[] {
    return this.progress.phases;
  }

  /** Runs one phase of the drill and records its timing, failed or not. */
  async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.running.push(name);
    this.progress.current = name;
    const record = (outcome: PhaseTiming['outcome']) =>
      this.progress.phases.push({ phase: name, startedAt: new Date(started).toISOString(), finishedAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000, outcome });
    try {
      const result = await work();
      record('ok');
      return result;
    } catch (err) {
      record('failed');
      throw err;
    } finally {
      this.running.splice(this.running.lastIndexOf(name), 1);
      this.progress.current = this.running.at(-1);
    }
  }

  showSandbox(sandbox: SandboxHandle): void {
    this.progress.sandbox = { name: sandbox.name, socketPath: sandbox.socketPath, expiresAt: sandbox.expiresAt, ...(sandbox.host ? { host: sandbox.host } : {}) };
  }

  /** Waits until the kept sandbox is released or expires (extend moves its expiry). */
  async keepUntilReleased(sandbox: SandboxHandle, report: DrillReport): Promise<void> {
    this.progress.status = 'kept';
    this.progress.report = report;
    this.expiresAtMs = Date.parse(sandbox.expiresAt);
    while (!this.releaseRequested && Date.now() < this.expiresAtMs) await condition(() => this.releaseRequested, this.expiresAtMs - Date.now());
  }

  showBisect(bisect: BisectProgress): void {
    this.progress.bisect = bisect;
  }

  setStatus(status: DrillStatus): void {
    this.progress.status = status;
  }

  done(report: DrillReport): void {
    this.progress.report = report;
    this.progress.status = 'done';
  }
}
