/**
 * Binlog activities: copy the source's binary logs into the per-source archive (verified
 * event by event), and plan a replay from a backup's coordinates to a target.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DrillTarget, SourceSpec } from '../config/schema';
import { scanBinlogFile } from '../domain/binlog-events';
import type { BinlogTransaction } from '../domain/binlog-events';
import { compareCoordinates, filesForReplay, sortBinlogNames } from '../domain/binlog-files';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import { FLAVOR_TOOLS } from '../domain/flavors';
import { resolveStop } from '../domain/targets';
import type { RecoveryTarget } from '../domain/targets';
import type { BinlogCoordinates, Flavor } from '../domain/types';
import type { SourceCheckpoint, SourceFacts } from './backup';
import { withHeartbeat } from './boundary';
import type { ActivityDeps } from './deps';
import { binlogArchiveDir, safeSegment } from './deps';
import { runSourceTool } from './source-tools';

export interface ArchivedBinlog {
  file: string;
  bytes: number;
  sha256: string;
}

export interface TransactionSummary {
  file: string;
  startPosition: number;
  endPosition: number;
  gtid?: string;
  commitTime: string;
}

export interface ReplayPlan {
  /** Archive folder the files live in (mounted read-only into the sandbox). */
  archiveDir: string;
  files: string[];
  start: BinlogCoordinates;
  stop: BinlogCoordinates;
  transactions: number;
  lastApplied?: TransactionSummary;
  firstExcluded?: TransactionSummary;
  /** The archive's reach: its last transaction. */
  lastArchived?: TransactionSummary;
}

export function summarizeTransaction(t: BinlogTransaction | undefined): TransactionSummary | undefined {
  if (!t) return undefined;
  const micros = t.commitTimeMicros ?? t.timestamp * 1_000_000;
  return { file: t.file, startPosition: t.startPosition, endPosition: t.endPosition, gtid: t.gtid, commitTime: new Date(Math.floor(micros / 1000)).toISOString() };
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

async function archivedNames(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return sortBinlogNames(names.filter((n) => !n.startsWith('.') && /\.\d+$/.test(n)));
}

export function toRecoveryTarget(target: DrillTarget, checkpoint?: SourceCheckpoint): RecoveryTarget {
  if (target.kind === 'checkpoint') {
    if (!checkpoint) throw new DrillError(DrillErrorTypes.BadTarget, 'the checkpoint target needs a source checkpoint, which this drill did not take');
    return { kind: 'position', file: checkpoint.point.coordinates.file, position: checkpoint.point.coordinates.position };
  }
  return target;
}

export function binlogActivities(deps: ActivityDeps) {
  return {
    /**
     * Copies the source's binlogs from `fromFile` through the active one (read as far as it
     * is written) into the archive. Files are fetched into a staging folder, checked event by
     * event (checksums), then moved in: a longer copy of the active file replaces a shorter one.
     */
    async archiveBinlogs(req: { drillId: string; source: SourceSpec; facts: SourceFacts; fromFile: string }): Promise<ArchivedBinlog[]> {
      const archiveDir = binlogArchiveDir(deps.paths, req.source.name);
      const staging = path.join(archiveDir, `.staging-${safeSegment(req.drillId)}`);
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true, mode: 0o750 });
      try {
        const tool = FLAVOR_TOOLS[req.facts.identity.flavor].binlog;
        const result = await withHeartbeat(
          () => ({ phase: 'archive', from: req.fromFile }),
          (signal) =>
            runSourceTool(
              deps,
              {
                drillId: req.drillId,
                step: 'binlog',
                source: req.source,
                image: req.facts.image,
                tool,
                args: ['--read-from-remote-server', '--raw', '--to-last-log', '--result-file=/archive/', req.fromFile],
                binds: [`${staging}:/archive`],
              },
              { signal },
            ),
        );
        if (result.exitCode !== 0)
          throw new DrillError(
            /Could not find first log|not found|purged/i.test(result.stderr) ? DrillErrorTypes.BinlogGap : DrillErrorTypes.ToolFailed,
            `${tool} could not copy binlogs from ${req.fromFile} on source ${req.source.name} (exit ${result.exitCode}): ${result.stderr.trim().slice(-600)}`,
          );
        const fetched = await archivedNames(staging);
        if (fetched.length === 0) throw new DrillError(DrillErrorTypes.BinlogGap, `no binlog was copied from source ${req.source.name} starting at ${req.fromFile}`);
        const archived: ArchivedBinlog[] = [];
        for (const name of fetched) {
          const stagedPath = path.join(staging, name);
          scanBinlogFile(name, await readFile(stagedPath)); // throws ArtifactCorrupt on a bad event checksum
          const finalPath = path.join(archiveDir, name);
          const [staged, current] = await Promise.all([stat(stagedPath), stat(finalPath).catch(() => undefined)]);
          if (!current || current.size < staged.size) await rename(stagedPath, finalPath);
          const kept = await stat(finalPath);
          archived.push({ file: name, bytes: kept.size, sha256: await sha256File(finalPath) });
        }
        return archived;
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    },

    /** Decides which archived files to replay and exactly where to stop. Refuses unreachable targets before any restore. */
    async planReplay(req: { source: SourceSpec; flavor: Flavor; start: BinlogCoordinates; target: DrillTarget; checkpoint?: SourceCheckpoint; bestEffort?: boolean }): Promise<ReplayPlan> {
      const archiveDir = binlogArchiveDir(deps.paths, req.source.name);
      const names = await archivedNames(archiveDir);
      const candidates = filesForReplay(names, req.start);
      const transactions: BinlogTransaction[] = [];
      await withHeartbeat(
        () => ({ phase: 'plan', transactions: transactions.length }),
        async () => {
          for (const name of candidates) transactions.push(...scanBinlogFile(name, await readFile(path.join(archiveDir, name))).transactions);
        },
      );
      const target = toRecoveryTarget(req.target, req.checkpoint);
      const resolved = resolveStop(target, req.start, transactions, { bestEffort: req.bestEffort });
      const files = filesForReplay(names, req.start, resolved.stop);
      const applied = transactions.filter(
        (t) => compareCoordinates({ file: t.file, position: t.startPosition }, req.start) >= 0 && compareCoordinates({ file: t.file, position: t.endPosition }, resolved.stop) <= 0,
      );
      return {
        archiveDir,
        files,
        start: req.start,
        stop: resolved.stop,
        transactions: applied.length,
        lastApplied: summarizeTransaction(resolved.lastApplied),
        firstExcluded: summarizeTransaction(resolved.firstExcluded),
        lastArchived: summarizeTransaction(transactions[transactions.length - 1]),
      };
    },
  };
}
