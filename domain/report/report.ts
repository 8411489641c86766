/**
 * The drill report: what was restored, how long each phase took, which recovery point was
 * reached and whether every check passed. Plain data (it crosses Temporal), plus its
 * Markdown and terminal renderings.
 *
 * Pure module.
 */

import type { AlertDelivery } from './alert-kinds';
import type { BackupAttempt } from '../backups/attempts';
import type { NonTransactionalTable } from '../backups/non-transactional';
import type { CheckKind, CheckResult } from '../checks/results';
import { describeObjectsSummary } from '../checks/objects';
import type { ObjectsSummary } from '../checks/objects';
import { describeRecovery } from '../recovery/report';
import { backupNoteLines } from './backup-notes';
import type { RecoveryReport } from '../recovery/report';
import type { BinlogCoordinates, Flavor, RecoveryPoint } from '../types';

export type PhaseOutcome = 'ok' | 'failed' | 'skipped';

export interface PhaseTiming {
  /** One of {@link Phases} (other names are rendered but never count toward RTO). */
  phase: string;
  /** ISO-8601 UTC. */
  startedAt: string;
  finishedAt: string;
  seconds: number;
  outcome: PhaseOutcome;
}

/** Phase names the drill workflow records, in the order it runs them. */
export const Phases = {
  Backup: 'backup',
  VerifyArtifact: 'verify-artifact',
  SandboxStart: 'sandbox-start',
  Restore: 'restore',
  Replay: 'replay',
  Checks: 'checks',
  Cleanup: 'cleanup',
} as const;

/**
 * The phases whose durations make up the RTO. RTO here is what a real recovery from this
 * backup would cost: from starting a fresh server (the sandbox) to the restored data being
 * verified — start the server, load the dump, replay binlogs to the target, check the
 * result. Taking the backup, verifying the artifact's hash and tearing down are excluded:
 * they happen before a disaster or after the recovery.
 */
export const RTO_PHASES: readonly string[] = [Phases.SandboxStart, Phases.Restore, Phases.Replay, Phases.Checks];

export interface BackupFacts {
  /** Where the artifact is kept (path or URL). */
  artifactPath: string;
  bytes: number;
  sha256: string;
  /** Binlog position the backup is consistent with. */
  coordinates?: BinlogCoordinates;
  gtidSet?: string;
  /** ISO-8601 UTC time the backup was taken (the snapshot). */
  takenAt?: string;
  /** A team's backup without binlog coordinates: why it was restored as taken and not rolled forward. */
  notRolledForward?: string;
  /** Each take of the drill's own backup; more than one when the source interrupted it. */
  attempts?: BackupAttempt[];
  /** Tables of the backed-up databases in an engine without transactions (MyISAM, Aria, MEMORY…). */
  nonTransactionalTables?: NonTransactionalTable[];
  /** An incremental backup: the backups restored through, the full one first and this one last. */
  chain?: string[];
}

export interface DrillFailure {
  /** A DrillErrorType, or the failure type Temporal reported. */
  type: string;
  message: string;
}

export interface DrillReport {
  drillId: string;
  /** Configured source name. */
  source: string;
  flavor: Flavor;
  /** Source server version, e.g. `10.11.11-MariaDB-0+deb12u1`. */
  serverVersion: string;
  /** Sandbox image and version when they differ from the source or are worth recording. */
  sandbox?: {
    image: string;
    version?: string;
    /** The worker host that ran it (and holds it while kept), when sandboxes are placed. */
    host?: string;
    /** Hosts it was placed on first and lost mid-drill: the sandbox phase ran again on `host`. */
    lostHosts?: string[];
    /** The container's memory limit (MiB) and CPU limit (cores) it ran with, and its InnoDB buffer pool (MiB). */
    memoryMb?: number;
    cpus?: number;
    bufferPoolMb?: number;
    /** The kernel killed it at `fromMb`: it was started once more with `toMb`. */
    memoryRetry?: { fromMb: number; toMb: number };
  };
  startedAt: string;
  finishedAt: string;
  backup: BackupFacts;
  /** The recovery target in words: `latest`, `2026-11-21T18:00:00Z`, `binlog.000004:1234`. */
  target: string;
  /** Where the restored sandbox actually stopped. Absent if the drill failed before replay. */
  recoveryPoint?: RecoveryPoint;
  /** Point-in-time recovery: base backup, last applied / first not applied / skipped transactions, shortfall, proof. */
  recovery?: RecoveryReport;
  /**
   * Data loss of this recovery: source's latest commit time minus the last commit time
   * reached, when both are known.
   */
  rpoSeconds?: number;
  /** The source's RPO objective, when configured (domain/recovery/rpo.ts). */
  rpoTargetSeconds?: number;
  /** True when {@link rpoSeconds} exceeds {@link rpoTargetSeconds}. */
  rpoMissed?: boolean;
  phases: PhaseTiming[];
  /** {@link rtoSeconds} of `phases`. */
  rtoSeconds: number;
  /** The source's RTO target, when configured. */
  rtoTargetSeconds?: number;
  /** True when the restore completed but took longer than {@link rtoTargetSeconds}. */
  rtoMissed?: boolean;
  /** Wall-clock seconds from `startedAt` to `finishedAt`. */
  totalSeconds: number;
  checks: CheckResult[];
  /** The views, routines, triggers and events checked in the sandbox, and the definers created there for them. */
  objects?: ObjectsSummary;
  outcome: 'passed' | 'failed';
  failure?: DrillFailure;
  /** The alerts this drill raised and where each went (activities/report/notify.ts); absent when it raised none. */
  alerts?: AlertDelivery[];
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * Recovery time: the sum of the durations of the restore-side phases ({@link RTO_PHASES}).
 * A sum rather than a first-start-to-last-finish span, so workflow scheduling gaps (a worker
 * restart, a queued task) between phases do not count: they are drill artefacts, not costs
 * of a recovery. Skipped phases count as 0. Rounded to milliseconds.
 */
export function rtoSeconds(phases: readonly PhaseTiming[], rtoPhases: readonly string[] = RTO_PHASES): number {
  const sum = phases
    .filter((p) => rtoPhases.includes(p.phase) && p.outcome !== 'skipped')
    .reduce((acc, p) => acc + p.seconds, 0);
  return round3(sum);
}

/**
 * A drill passes only if nothing failed and something was checked: a restore that loaded
 * without errors but was never compared proves nothing.
 */
export function drillOutcome(checks: readonly CheckResult[], failure?: DrillFailure): 'passed' | 'failed' {
  if (failure !== undefined) return 'failed';
  if (checks.length === 0) return 'failed';
  return checks.every((c) => c.passed) ? 'passed' : 'failed';
}

export interface ReportSummary {
  /** The report says passed, has no failure and no failed check. */
  passed: boolean;
  outcome: 'passed' | 'failed';
  totalChecks: number;
  passedChecks: number;
  failedChecks: CheckResult[];
  /** Passed/total per check kind, only for kinds present. */
  byKind: Partial<Record<CheckKind, { passed: number; total: number }>>;
  rtoSeconds: number;
  totalSeconds: number;
  rpoSeconds?: number;
  /** One line: `PASSED university: 42/42 checks, RTO 63.2s`. */
  headline: string;
}

export function summarize(report: DrillReport): ReportSummary {
  const failedChecks = report.checks.filter((c) => !c.passed);
  const byKind: Partial<Record<CheckKind, { passed: number; total: number }>> = {};
  for (const c of report.checks) {
    const k = (byKind[c.kind] ??= { passed: 0, total: 0 });
    k.total += 1;
    if (c.passed) k.passed += 1;
  }
  const passed = report.outcome === 'passed' && report.failure === undefined && failedChecks.length === 0;
  const passedChecks = report.checks.length - failedChecks.length;
  const headline =
    `${passed ? 'PASSED' : 'FAILED'} ${report.source}: ${passedChecks}/${report.checks.length} checks passed, ` +
    `RTO ${formatSeconds(report.rtoSeconds)}` +
    (report.failure ? ` — ${report.failure.type}: ${firstLine(report.failure.message)}` : '');
  return {
    passed,
    outcome: passed ? 'passed' : 'failed',
    totalChecks: report.checks.length,
    passedChecks,
    failedChecks,
    byKind,
    rtoSeconds: report.rtoSeconds,
    totalSeconds: report.totalSeconds,
    ...(report.rpoSeconds === undefined ? {} : { rpoSeconds: report.rpoSeconds }),
    headline,
  };
}

/** `0.4s`, `42.0s`, `3m 05s`, `1h 02m 03s`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${pad(m)}m ${pad(s)}s` : `${m}m ${pad(s)}s`;
}

/** `1.5 KiB`, `12.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes} B` : `${v.toFixed(1)} ${units[i]}`;
}

function formatCoordinates(c: BinlogCoordinates | undefined): string {
  return c === undefined ? 'unknown' : `${c.file}:${c.position}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? '';
}

/** A Markdown table cell: no line breaks, pipes escaped. */
function cell(s: string | undefined): string {
  if (s === undefined || s === '') return '';
  return s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** Inline code that survives backticks in the value. */
function code(s: string): string {
  const fence = s.includes('`') ? '``' : '`';
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

const KIND_ORDER: readonly CheckKind[] = ['presence', 'row-count', 'checksum', 'check-table', 'gtid', 'object', 'definer', 'view', 'assertion', 'freshness'];

/**
 * A readable Markdown report: verdict, source and backup, recovery point, a phase table with
 * durations, every failed check with expected vs actual, passed checks counted by kind (and
 * listed in a collapsed block), and the failure.
 */
/** `, memory 1536 MiB (buffer pool 512 MiB), 2 CPUs; out of memory at 768 MiB, started again with 1536 MiB`. */
export function sandboxLimitsText(sandbox: NonNullable<DrillReport['sandbox']>): string {
  const parts = [
    ...(sandbox.memoryMb !== undefined ? [`memory ${sandbox.memoryMb} MiB${sandbox.bufferPoolMb !== undefined ? ` (buffer pool ${sandbox.bufferPoolMb} MiB)` : ''}`] : []),
    ...(sandbox.cpus !== undefined ? [`${sandbox.cpus} CPU${sandbox.cpus === 1 ? '' : 's'}`] : []),
  ];
  const retry = sandbox.memoryRetry ? `; out of memory at ${sandbox.memoryRetry.fromMb} MiB, started again with ${sandbox.memoryRetry.toMb} MiB` : '';
  return (parts.length > 0 ? `, ${parts.join(', ')}` : '') + retry;
}

export function renderMarkdown(report: DrillReport): string {
  const s = summarize(report);
  const out: string[] = [];
  out.push(`# Restore drill ${report.drillId}: ${s.passed ? 'PASSED' : 'FAILED'}`, '');
  out.push(
    `- **Source:** ${report.source} (${report.flavor} ${report.serverVersion})`,
    ...(report.sandbox
      ? [
          `- **Sandbox:** ${report.sandbox.image}${report.sandbox.version ? ` (${report.sandbox.version})` : ''}${sandboxLimitsText(report.sandbox)}${report.sandbox.host ? ` on host ${report.sandbox.host}` : ''}${report.sandbox.lostHosts ? ` (lost and left: ${report.sandbox.lostHosts.join(', ')})` : ''}`,
        ]
      : []),
    `- **Started:** ${report.startedAt} — **finished:** ${report.finishedAt}`,
    `- **Target:** ${report.target}`,
    `- **RTO:** ${formatSeconds(report.rtoSeconds)} (sandbox start to verified data) — **total:** ${formatSeconds(report.totalSeconds)}`,
    ...(report.rtoTargetSeconds === undefined ? [] : [`- **RTO target:** ${formatSeconds(report.rtoTargetSeconds)}: ${report.rtoMissed ? '**MISSED**' : 'met'}`]),
    ...(report.rpoSeconds === undefined ? [] : [`- **RPO:** ${formatSeconds(report.rpoSeconds)}${report.rpoMissed === undefined ? '' : ` (target ${formatSeconds(report.rpoTargetSeconds!)}: ${report.rpoMissed ? '**MISSED**' : 'met'})`}`]),
    '',
  );

  if (report.failure) {
    out.push('## Failure', '', `**${report.failure.type}**: ${report.failure.message}`, '');
  }

  const b = report.backup;
  out.push(
    '## Backup',
    '',
    `- **Artifact:** ${code(b.artifactPath)} (${formatBytes(b.bytes)})`,
    `- **SHA-256:** ${code(b.sha256)}`,
    `- **Binlog position:** ${formatCoordinates(b.coordinates)}`,
    ...(b.notRolledForward ? [`- **Not rolled forward:** ${b.notRolledForward}`] : []),
    ...(b.gtidSet ? [`- **GTID set:** ${code(b.gtidSet)}`] : []),
    ...(b.takenAt ? [`- **Taken at:** ${b.takenAt}`] : []),
    ...backupNoteLines(b).map((l) => `- ${cell(l)}`),
    '',
  );

  out.push('## Recovery point reached', '');
  const rp = report.recoveryPoint;
  if (rp === undefined) {
    out.push('Not reached: the drill stopped before the restore completed.', '');
  } else {
    out.push(
      `- **Binlog position:** ${formatCoordinates(rp.coordinates)}`,
      ...(rp.gtidSet ? [`- **GTID set:** ${code(rp.gtidSet)}`] : []),
      ...(rp.lastCommitTime ? [`- **Last commit:** ${rp.lastCommitTime}`] : []),
      '',
    );
  }
  if (report.recovery) out.push(...describeRecovery(report.recovery).map((l) => `- ${cell(l)}`), '');

  out.push('## Phases', '', '| Phase | Outcome | Duration | Started | Finished | RTO |', '| --- | --- | ---: | --- | --- | :---: |');
  for (const p of report.phases) {
    out.push(
      `| ${cell(p.phase)} | ${p.outcome} | ${formatSeconds(p.seconds)} | ${p.startedAt} | ${p.finishedAt} | ${RTO_PHASES.includes(p.phase) ? '✓' : ''} |`,
    );
  }
  out.push('');

  if (report.alerts && report.alerts.length > 0) {
    out.push('## Alerts', '', '| Alert | Destination | Delivered | Attempts | Error |', '| --- | --- | :---: | ---: | --- |');
    for (const a of report.alerts) out.push(`| ${a.kind} | ${cell(a.destination)} (${a.type}) | ${a.delivered ? '✓' : '**no**'} | ${a.attempts} | ${cell(a.error ?? '')} |`);
    out.push('');
  }

  out.push('## Checks', '', `${s.passedChecks} of ${s.totalChecks} checks passed.`, '');
  if (report.objects) out.push(`Objects: ${describeObjectsSummary(report.objects)}.`, '');
  if (s.failedChecks.length > 0) {
    out.push('### Failed', '', '| Check | Expected | Actual | Message |', '| --- | --- | --- | --- |');
    for (const c of s.failedChecks) {
      out.push(`| ${cell(c.name)} | ${cell(c.expected)} | ${cell(c.actual)} | ${cell(c.message)} |`);
    }
    out.push('');
  }
  const passed = report.checks.filter((c) => c.passed);
  if (passed.length > 0) {
    out.push('### Passed', '', '| Kind | Passed |', '| --- | ---: |');
    for (const kind of KIND_ORDER) {
      const k = s.byKind[kind];
      if (k && k.passed > 0) out.push(`| ${kind} | ${k.passed} |`);
    }
    out.push('', '<details><summary>All passed checks</summary>', '', '| Check | Value |', '| --- | --- |');
    for (const c of passed) out.push(`| ${cell(c.name)} | ${cell(c.actual)} |`);
    out.push('', '</details>', '');
  }
  return out.join('\n');
}

/** A compact terminal report: verdict line, key facts, phases on one line, failed checks. */
export function renderText(report: DrillReport): string {
  const s = summarize(report);
  const lines: string[] = [];
  lines.push(`${s.passed ? 'PASSED' : 'FAILED'}  ${report.drillId}  ${report.source} (${report.flavor} ${report.serverVersion})`);
  const b = report.backup;
  lines.push(
    `backup   ${b.artifactPath} (${formatBytes(b.bytes)}, sha256 ${b.sha256.slice(0, 12)}) at ${formatCoordinates(b.coordinates)}` +
      (b.gtidSet ? ` gtid ${b.gtidSet}` : ''),
  );
  if (b.notRolledForward) lines.push(`         restored as taken, not rolled forward: ${b.notRolledForward}`);
  lines.push(...backupNoteLines(b).map((l) => `         ${l}`));
  lines.push(`target   ${report.target}`);
  const rp = report.recoveryPoint;
  lines.push(
    rp === undefined
      ? 'reached  -'
      : `reached  ${formatCoordinates(rp.coordinates)}` +
          (rp.gtidSet ? ` gtid ${rp.gtidSet}` : '') +
          (rp.lastCommitTime ? ` last commit ${rp.lastCommitTime}` : ''),
  );
  if (report.recovery) lines.push(...describeRecovery(report.recovery).map((l) => `         ${l}`));
  lines.push(
    `time     RTO ${formatSeconds(report.rtoSeconds)}` +
      (report.rtoTargetSeconds === undefined ? '' : ` (target ${formatSeconds(report.rtoTargetSeconds)}: ${report.rtoMissed ? 'MISSED' : 'met'})`) +
      `  total ${formatSeconds(report.totalSeconds)}` +
      (report.rpoSeconds === undefined ? '' : `  RPO ${formatSeconds(report.rpoSeconds)}${report.rpoMissed === undefined ? '' : ` (target ${formatSeconds(report.rpoTargetSeconds!)}: ${report.rpoMissed ? 'MISSED' : 'met'})`}`),
  );
  if (report.phases.length > 0) {
    lines.push(
      'phases   ' +
        report.phases
          .map((p) => `${p.phase} ${formatSeconds(p.seconds)}${p.outcome === 'ok' ? '' : ` (${p.outcome})`}`)
          .join(', '),
    );
  }
  lines.push(`checks   ${s.passedChecks}/${s.totalChecks} passed`);
  if (report.objects) lines.push(`objects  ${describeObjectsSummary(report.objects)}`);
  for (const c of s.failedChecks) {
    lines.push(
      `  FAIL   ${c.name}: expected ${c.expected ?? '-'}, actual ${c.actual ?? '-'}` + (c.message ? ` — ${firstLine(c.message)}` : ''),
    );
  }
  if (report.failure) lines.push(`failure  ${report.failure.type}: ${firstLine(report.failure.message)}`);
  return lines.join('\n') + '\n';
}
