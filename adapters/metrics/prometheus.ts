/**
 * restore-drill's own Prometheus metrics, per source, with prom-client. The activities record
 * through the DrillMetricsRecorder port; the archive lag and the sandboxes running are computed
 * when Prometheus scrapes (a lag is a function of the clock, containers of Docker). Names and
 * what each means: docs/operations.md, "Metrics"; alert rules: deploy/monitoring/.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DrillMetricsRecorder, JanitorRemovalKind, SourceObjectives, WindowStatus } from '../../domain/metrics/recorder';
import { epochSeconds } from '../../domain/metrics/recorder';
import { archiveLagSeconds } from '../../domain/recovery/rpo';
import type { ArchiveLagState } from '../../domain/recovery/rpo';
import type { DrillReport } from '../../domain/report/report';

const PREFIX = 'restore_drill_';

export interface PrometheusMetricsOptions {
  /** The sources' labels of the sandboxes running now (Docker, by label); absent: not exported. */
  runningSandboxes?: () => Promise<string[]>;
  now?: () => number;
}

export class PrometheusDrillMetrics implements DrillMetricsRecorder {
  readonly registry = new Registry();
  private readonly caughtUp = new Map<string, ArchiveLagState>();
  /** The phases each source's last drill recorded, to drop those the next one does not have. */
  private readonly phasesShown = new Map<string, string[]>();
  private readonly now: () => number;

  private gauge(name: string, help: string, labelNames: string[] = ['source']): Gauge {
    return new Gauge({ name: PREFIX + name, help, labelNames, registers: [this.registry] });
  }

  private readonly lastDrillSuccess = this.gauge('last_drill_success', 'Outcome of the last drill: 1 passed, 0 failed (cancelled counts as failed).');
  private readonly lastDrillTime = this.gauge('last_drill_timestamp_seconds', 'When the last drill finished (Unix time).');
  private readonly lastSuccessTime = this.gauge('last_success_timestamp_seconds', 'When the last passing drill finished (Unix time).');
  private readonly drills = new Counter({ name: `${PREFIX}drills_total`, help: 'Drills reported by this worker since it started, by outcome.', labelNames: ['source', 'outcome'], registers: [this.registry] });
  private readonly rto = this.gauge('rto_seconds', 'RTO of the last drill that reached its recovery point: sandbox start to verified data.');
  private readonly rtoTarget = this.gauge('rto_target_seconds', 'The source\'s RTO objective (rtoTarget).');
  private readonly phase = this.gauge('phase_seconds', 'Seconds each phase of the last drill took.', ['source', 'phase']);
  private readonly rpo = this.gauge('rpo_seconds', 'RPO of the last drill that reached its recovery point: writes its recovery lost.');
  private readonly rpoTarget = this.gauge('rpo_target_seconds', 'The source\'s RPO objective (rpoTarget).');
  private readonly rpoMissed = this.gauge('rpo_missed', '1 when the RPO objective was missed: by the last drill (check="drill"), by the archive before its last run (check="archive"), or by the age of the team\'s newest backup (check="backup-age").', ['source', 'check']);
  private readonly backupBytes = this.gauge('backup_size_bytes', 'Size of the backup artifact the last drill restored.');
  private readonly caughtUpTime = this.gauge('archive_caught_up_timestamp_seconds', 'The binlog archive holds every transaction committed before this (Unix time).');
  private readonly windowStart = this.gauge('recoverable_window_start_timestamp_seconds', 'When the oldest backup the archive can roll forward was taken (Unix time).');
  private readonly windowEnd = this.gauge('recoverable_window_end_timestamp_seconds', 'Commit time of the last archived transaction (Unix time).');
  private readonly archiveGaps = this.gauge('archive_gaps', 'Gaps in the binlog archive (missing files or transactions): no replay can cross one.');
  private readonly janitorRemovals = new Counter({ name: `${PREFIX}janitor_removals_total`, help: 'What the janitor removed since the worker started: leftover containers and folders, old backups, binlogs and reports.', labelNames: ['source', 'kind'], registers: [this.registry] });

  constructor(opts: PrometheusMetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    collectDefaultMetrics({ register: this.registry, prefix: `${PREFIX}process_` });
    const caughtUp = this.caughtUp;
    const now = this.now;
    // Registered gauges computed per scrape; nothing sets them.
    new Gauge({
      name: `${PREFIX}archive_lag_seconds`,
      help: 'Seconds of source writes the binlog archive may lack: since its last successful run started.',
      labelNames: ['source'],
      registers: [this.registry],
      // Computed per scrape: the lag grows while no run succeeds, which is what the alert watches.
      collect() {
        for (const [source, state] of caughtUp) this.set({ source }, archiveLagSeconds(state, now()));
      },
    });
    const running = opts.runningSandboxes;
    new Gauge({
      name: `${PREFIX}sandboxes_running`,
      help: 'Sandbox containers running now (drills in progress and kept PITR sandboxes).',
      labelNames: ['source'],
      registers: [this.registry],
      async collect() {
        if (!running) return;
        // Docker unreachable: no value rather than a failed scrape (the other metrics still count).
        const sources = await running().catch(() => []);
        this.reset();
        for (const source of sources) this.inc({ source });
      },
    });
  }

  drillReported(report: DrillReport): void {
    this.drills.inc({ source: report.source, outcome: report.outcome });
    this.show(report);
  }

  /** After a restart: the newest report of a source, and its newest passing one (lastReports). */
  seedReports(last: DrillReport, lastPassed: DrillReport | undefined): void {
    // Replayed in order, as they happened: a failed last drill keeps the pass's time, RTO and RPO.
    if (lastPassed && lastPassed !== last) this.show(lastPassed);
    this.show(last);
  }

  private show(report: DrillReport): void {
    const source = { source: report.source };
    this.lastDrillSuccess.set(source, report.outcome === 'passed' ? 1 : 0);
    setTime(this.lastDrillTime, source, report.finishedAt);
    if (report.outcome === 'passed') setTime(this.lastSuccessTime, source, report.finishedAt);
    if (report.backup.bytes > 0) this.backupBytes.set(source, report.backup.bytes);
    if (report.rtoTargetSeconds !== undefined) this.rtoTarget.set(source, report.rtoTargetSeconds);
    if (report.rpoTargetSeconds !== undefined) this.rpoTarget.set(source, report.rpoTargetSeconds);
    // RTO and RPO are facts of a recovery that completed: a failed drill keeps the last ones.
    if (report.recoveryPoint !== undefined) {
      this.rto.set(source, report.rtoSeconds);
      if (report.rpoSeconds !== undefined) this.rpo.set(source, report.rpoSeconds);
    }
    if (report.rpoMissed !== undefined) this.rpoMissed.set({ ...source, check: 'drill' }, report.rpoMissed ? 1 : 0);
    const age = report.checks.find((c) => c.kind === 'freshness');
    if (age) this.rpoMissed.set({ ...source, check: 'backup-age' }, age.passed ? 0 : 1);
    if (report.phases.length > 0) {
      // Only this drill's phases: a phase it skipped must not show the previous drill's time.
      for (const phase of this.phasesShown.get(report.source) ?? []) this.phase.remove({ ...source, phase });
      for (const p of report.phases) this.phase.set({ ...source, phase: p.phase }, p.seconds);
      this.phasesShown.set(report.source, report.phases.map((p) => p.phase));
    }
  }

  archiveCaughtUp(source: string, state: ArchiveLagState): void {
    this.caughtUp.set(source, state);
    setTime(this.caughtUpTime, { source }, state.caughtUpAt);
    if (state.rpoTargetSeconds !== undefined) this.rpoTarget.set({ source }, state.rpoTargetSeconds);
    if (state.rpoMissed !== undefined) this.rpoMissed.set({ source, check: 'archive' }, state.rpoMissed ? 1 : 0);
  }

  archiveWindow(source: string, window: WindowStatus): void {
    setTime(this.windowStart, { source }, window.startAt);
    setTime(this.windowEnd, { source }, window.endAt);
    this.archiveGaps.set({ source }, window.gaps);
  }

  janitorRemoved(source: string, kind: JanitorRemovalKind, count: number): void {
    if (count > 0) this.janitorRemovals.inc({ source, kind }, count);
  }

  /** Objectives from the configuration file: known before any drill runs. */
  objectives(list: readonly SourceObjectives[]): void {
    for (const o of list) {
      if (o.rtoTargetSeconds !== undefined) this.rtoTarget.set({ source: o.source }, o.rtoTargetSeconds);
      if (o.rpoTargetSeconds !== undefined) this.rpoTarget.set({ source: o.source }, o.rpoTargetSeconds);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

function setTime(gauge: Gauge, labels: { source: string }, iso: string | undefined): void {
  const seconds = epochSeconds(iso);
  if (seconds === undefined) gauge.remove(labels);
  else gauge.set(labels, seconds);
}
