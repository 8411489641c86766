/**
 * Binlog activities: keep the per-source binlog archive (copied from the source, verified
 * event by event, indexed with sha256 and GTID state per file), plan a replay from a
 * backup's coordinates to a target, refusing unreachable targets before any sandbox exists,
 * and prove afterwards which transactions the sandbox applied.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { withSession } from '../../adapters/mysql';
import type { DrillTarget, SourceSpec } from '../../config/schema';
import { BinlogFileScanner, scanBinlogFile } from '../../domain/binlog/events';
import type { BinlogTransaction } from '../../domain/binlog/events';
import { binlogBase, compareBinlogNames, compareCoordinates, filesForReplay, formatCoordinates, sortBinlogNames } from '../../domain/binlog/files';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { FLAVOR_TOOLS } from '../../domain/flavors';
import { toolContainerName } from '../../domain/naming';
import type { ArchivedFileEntry, BackupCandidate, RecoverableWindow, RecoveryProof, ReplaySegment, SkipSpec, TransactionSummary } from '../../domain/recovery/plan';
import {
  achievedRpoSeconds,
  archiveFallbackFile,
  archiveResumeFile,
  assertNoGapBetween,
  backupLastCommitBound,
  firstGapBetween,
  gapHidingTarget,
  gapLimitFile,
  chooseBaseBackup,
  expectedGtidSet,
  findArchiveGaps,
  gtidSetOf,
  proveByGtidExecuted,
  proveByGtidSlavePos,
  recoverableWindow,
  replaySegments,
  resolveSkips,
  summarizeTransaction,
} from '../../domain/recovery/plan';
import { describeTarget, resolveStop, targetTimeMicros, transactionTimeMicros } from '../../domain/recovery/targets';
import type { RecoveryTarget } from '../../domain/recovery/targets';
import type { BinlogCoordinates, Flavor } from '../../domain/types';
import type { SourceCheckpoint, SourceFacts } from '../dump/backup';
import { endpointOf, sourceCredentials } from '../dump/backup';
import { activityAttempt, withHeartbeat } from '../boundary';
import { archivedNames, listPublishedBackups, readArchiveIndex, updateArchiveIndex } from '../artifacts/catalog';
import type { ActivityDeps } from '../deps';
import { binlogArchiveDir, safeSegment } from '../deps';
import type { SandboxHandle } from '../sandbox/sandbox';
import { assertOwnSandbox } from '../sandbox/sandbox';
import { runSourceTool } from '../source/tools';

export { summarizeTransaction };
export type { TransactionSummary };

export interface ArchivedBinlog {
  file: string;
  bytes: number;
  sha256: string;
}

export interface ReplayPlan {
  /** Archive folder the files live in (mounted read-only into the sandbox). */
  archiveDir: string;
  /** Every file any segment reads, in order. */
  files: string[];
  /** One binlog-tool run per segment, all into one client session (skips fall between segments). */
  segments: ReplaySegment[];
  start: BinlogCoordinates;
  stop: BinlogCoordinates;
  /** Transactions the replay applies (skipped ones excluded). */
  transactions: number;
  lastApplied?: TransactionSummary;
  /** The first transaction after the stop: not applied. */
  firstExcluded?: TransactionSummary;
  /** Transactions left out on request. */
  skipped: TransactionSummary[];
  /** The archive's reach: its last transaction. */
  lastArchived?: TransactionSummary;
  /** Best effort only: why the target itself was not reached. */
  shortfall?: string;
  /** Data loss of this recovery (0 when the target was reached). */
  rpoSeconds: number;
  /** The recoverable window of the source, in words. */
  window: string;
  /** MySQL: the gtid_executed the sandbox must show after the replay. */
  expectedGtidSet?: string;
}

export interface RecoveryPlan {
  /** The published backup the recovery starts from. */
  backup: BackupCandidate;
  plan: ReplayPlan;
}

interface PlanRequest {
  source: SourceSpec;
  flavor: Flavor;
  target: DrillTarget;
  checkpoint?: SourceCheckpoint;
  skip?: SkipSpec[];
  bestEffort?: boolean;
}

export function toRecoveryTarget(target: DrillTarget, checkpoint?: SourceCheckpoint): RecoveryTarget {
  if (target.kind === 'checkpoint') {
    if (!checkpoint) throw new DrillError(DrillErrorTypes.BadTarget, 'the checkpoint target needs a source checkpoint, which this drill did not take');
    return { kind: 'position', file: checkpoint.point.coordinates.file, position: checkpoint.point.coordinates.position };
  }
  return target;
}

/**
 * Reads a binlog file in steps, checking every event (ArtifactCorrupt on a bad checksum) and
 * hashing it, and yields between steps: a file of hundreds of MB scanned in one go would block
 * the worker's heartbeats past their timeout on a busy host.
 */
async function scanBinlogFileInSteps(file: string, filePath: string): Promise<ReturnType<typeof scanBinlogFile> & { bytes: number; sha256: string }> {
  const scanner = new BinlogFileScanner(file);
  const hash = createHash('sha256');
  const transactions: BinlogTransaction[] = [];
  let bytes = 0;
  for await (const chunk of createReadStream(filePath, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) {
    for (const t of scanner.push(chunk)) transactions.push(t);
    hash.update(chunk);
    bytes += chunk.length;
    await new Promise((r) => setImmediate(r));
  }
  const end = scanner.finish();
  return { transactions: [...transactions, ...end.transactions], summary: end.summary, bytes, sha256: hash.digest('hex') };
}

/** The index entry of one archived file, from its scan. */
function indexEntry(file: string, scan: Awaited<ReturnType<typeof scanBinlogFileInSteps>>, flavor: Flavor): ArchivedFileEntry {
  const { transactions, summary } = scan;
  const gtids = gtidSetOf(flavor, transactions.flatMap((t) => (t.gtid === undefined ? [] : [t.gtid])));
  const first = transactions[0];
  const last = transactions[transactions.length - 1];
  const entry: ArchivedFileEntry = {
    file,
    bytes: scan.bytes,
    sha256: scan.sha256,
    endPosition: summary.endPosition,
    gtids,
    sealed: summary.rotatesTo !== undefined || summary.stopped,
    archivedAt: new Date().toISOString(),
  };
  if (summary.previousGtids !== undefined) entry.previousGtids = summary.previousGtids;
  if (first) entry.firstCommitTime = summarizeTransaction(first).commitTime;
  if (last) entry.lastCommitTime = summarizeTransaction(last).commitTime;
  return entry;
}

/**
 * Reads the archive: files present, index and gaps; scans (and checks against the index's
 * sha256) the files from `from`'s file onwards: earlier ones can serve no replay from there.
 */
async function loadArchive(deps: ActivityDeps, source: string, flavor: Flavor, from?: BinlogCoordinates) {
  const archiveDir = binlogArchiveDir(deps.paths, source);
  const names = await archivedNames(archiveDir);
  if (names.length === 0) throw new DrillError(DrillErrorTypes.BinlogGap, `the binlog archive of source ${source} is empty: nothing can be replayed`);
  const index = await readArchiveIndex(deps.paths, source);
  const byName = new Map(index.files.map((f) => [f.file, f]));
  const transactions: BinlogTransaction[] = [];
  await withHeartbeat(
    () => ({ phase: 'plan', transactions: transactions.length }),
    async () => {
      for (const name of names) {
        if (from !== undefined && compareCoordinates({ file: name, position: Number.MAX_SAFE_INTEGER }, from) < 0) continue;
        const filePath = path.join(archiveDir, name);
        const entry = byName.get(name);
        const changed = (sha: string, bytes: number) =>
          entry !== undefined && (sha !== entry.sha256 || bytes !== entry.bytes)
            ? new DrillError(DrillErrorTypes.ArtifactCorrupt, `archived binlog ${name} of source ${source} changed after archiving (sha256 ${sha}, ${bytes} bytes; index says ${entry.sha256}, ${entry.bytes} bytes)`, { details: { file: name } })
            : undefined;
        // In steps, so the heartbeats keep flowing through a file of hundreds of MB.
        let scan: Awaited<ReturnType<typeof scanBinlogFileInSteps>>;
        try {
          scan = await scanBinlogFileInSteps(name, filePath);
        } catch (err) {
          // A changed file is named as changed, not by where its parse tripped.
          const hash = createHash('sha256');
          let bytes = 0;
          for await (const c of createReadStream(filePath) as AsyncIterable<Buffer>) {
            hash.update(c);
            bytes += c.length;
          }
          throw changed(hash.digest('hex'), bytes) ?? err;
        }
        const wasChanged = changed(scan.sha256, scan.bytes);
        if (wasChanged) throw wasChanged;
        transactions.push(...scan.transactions);
      }
    },
  );
  const gaps = findArchiveGaps(index, names, flavor);
  return { archiveDir, names, transactions, gaps, index };
}

/** Bytes compared between an archived binlog and a fresh copy of the same name: the format description event and what follows. */
const HISTORY_PREFIX_BYTES = 64 * 1024;

/**
 * A fresh copy of an archived file must extend it. A source re-created under the same name,
 * or whose binlogs were reset (RESET MASTER), writes a new `mysql-bin.000001` with another
 * format description event: keeping the old, longer file would replay another history.
 */
async function assertSameHistory(source: string, name: string, stagedPath: string, archivedPath: string, commonBytes: number): Promise<void> {
  const length = Math.min(commonBytes, HISTORY_PREFIX_BYTES);
  const read = async (file: string) => {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, 0);
      return buf;
    } finally {
      await fh.close();
    }
  };
  const [fresh, archived] = await Promise.all([read(stagedPath), read(archivedPath)]);
  if (!fresh.equals(archived))
    throw new DrillError(
      DrillErrorTypes.ArchiveDiverged,
      `the archived binlog ${name} of source ${source} is not the start of the source's current ${name}: the source was re-created or its binlogs were reset. Its archive (${path.dirname(archivedPath)}) holds another history: move it away, or give the new server another source name`,
      { details: { file: name } },
    );
}

/** The oldest binlog of series `base` the source still has (SHOW BINARY LOGS); undefined when it cannot say. */
async function oldestSourceBinlog(source: SourceSpec, base: string): Promise<string | undefined> {
  try {
    const rows = await withSession(endpointOf(source), await sourceCredentials(source), (s) => s.query<{ Log_name: string }>('SHOW BINARY LOGS'));
    return sortBinlogNames(rows.map((r) => r.Log_name).filter((n) => binlogBase(n) === base))[0];
  } catch {
    return undefined;
  }
}

export function binlogActivities(deps: ActivityDeps) {
  /** Plans the replay from `start` (a backup's coordinates) to the target. */
  async function planFrom(req: PlanRequest, start: BinlogCoordinates, backupGtidSet: string | undefined, backups: BackupCandidate[]): Promise<ReplayPlan> {
    const { archiveDir, names, transactions, gaps, index } = await loadArchive(deps, req.source.name, req.flavor, start);
    const lastArchived = summarizeTransaction(transactions[transactions.length - 1]);
    const window = recoverableWindow(backups, gaps, names, lastArchived);
    const target = toRecoveryTarget(req.target, req.checkpoint);
    // Earlier files may be absent (never archived, or removed by retention): bound the backup's last commit another way.
    const finishedAt = backups.find((b) => compareCoordinates(b.coordinates, start) === 0)?.finishedAt;
    const startTime = target.kind === 'time' ? backupLastCommitBound(start, transactions, index, finishedAt) : undefined;
    const resolve = (reachable: BinlogTransaction[]) => {
      try {
        return resolveStop(target, start, reachable, { bestEffort: req.bestEffort, startGtidSet: backupGtidSet, ...(startTime === undefined ? {} : { startTime }) });
      } catch (err) {
        if ((err as DrillError).type === DrillErrorTypes.BadTarget) throw new DrillError(DrillErrorTypes.BadTarget, `${(err as Error).message}. ${window.text}`, { details: (err as DrillError).details });
        throw err;
      }
    };
    let resolved = resolve(transactions);
    const gap = firstGapBetween(start, resolved.stop, gaps);
    if (gap !== undefined && req.bestEffort) {
      // Best effort: stop at the last transaction before the gap, and say what was lost.
      const limit = gapLimitFile(gap);
      resolved = resolve(transactions.filter((t) => compareBinlogNames(t.file, limit) < 0));
      resolved.shortfall = `${gap.description}: stopped at the last transaction before it${resolved.shortfall === undefined ? '' : ` (${resolved.shortfall})`}`;
    } else {
      assertNoGapBetween(start, resolved.stop, gaps, window);
    }
    const hidden = target.kind === 'time' || target.kind === 'beforeEvent' ? gapHidingTarget(resolved.stop, resolved.firstExcluded, gaps) : undefined;
    if (hidden !== undefined) {
      const why = `${hidden.description}, between the last archived transaction before ${describeTarget(target)} (ending at ${formatCoordinates(resolved.stop)}) and the first one after it: transactions missing there may precede the target`;
      if (!req.bestEffort)
        throw new DrillError(DrillErrorTypes.BinlogGap, `Cannot tell where ${describeTarget(target)} stops: ${why}. ${window.text}`, { details: { start, stop: resolved.stop, missing: hidden.missing, gap: hidden } });
      resolved.shortfall ??= `${why}; stopped at the last archived transaction before the gap`;
    }
    try {
      filesForReplay(names, start, resolved.stop); // also: the backup's own file must be archived
    } catch (err) {
      throw new DrillError(DrillErrorTypes.BinlogGap, `${(err as Error).message}. ${window.text}`, { details: (err as DrillError).details, cause: err });
    }
    const skipped = resolveSkips(req.skip ?? [], start, resolved.stop, transactions);
    const skippedAt = new Set(skipped.map((t) => formatCoordinates({ file: t.file, position: t.startPosition })));
    const applied = transactions.filter(
      (t) =>
        compareCoordinates({ file: t.file, position: t.startPosition }, start) >= 0 &&
        compareCoordinates({ file: t.file, position: t.endPosition }, resolved.stop) <= 0 &&
        !skippedAt.has(formatCoordinates({ file: t.file, position: t.startPosition })),
    );
    const segments = replaySegments(names, start, resolved.stop, skipped);
    const plan: ReplayPlan = {
      archiveDir,
      files: [...new Set(segments.flatMap((s) => s.files))],
      segments,
      start,
      stop: resolved.stop,
      transactions: applied.length,
      skipped: skipped.map((t) => summarizeTransaction(t)),
      rpoSeconds: achievedRpoSeconds({
        reached: resolved.shortfall === undefined,
        targetTimeMicros: target.kind === 'time' ? targetTimeMicros(target.at) : undefined,
        lastAppliedMicros: resolved.lastApplied ? transactionTimeMicros(resolved.lastApplied) : undefined,
        nowMicros: Date.now() * 1000,
      }),
      window: window.text,
    };
    if (resolved.lastApplied) plan.lastApplied = summarizeTransaction(resolved.lastApplied);
    if (resolved.firstExcluded) plan.firstExcluded = summarizeTransaction(resolved.firstExcluded);
    if (lastArchived) plan.lastArchived = lastArchived;
    if (resolved.shortfall !== undefined) plan.shortfall = resolved.shortfall;
    const expected = expectedGtidSet(req.flavor, backupGtidSet, applied);
    if (expected !== undefined) plan.expectedGtidSet = expected;
    return plan;
  }

  return {
    /**
     * Copies the source's binlogs into the archive, resuming where the archive ends (its
     * newest file may have grown) unless it does not reach back to `fromFile` (default: the
     * oldest published backup's file). Files are fetched into a staging folder, checked
     * event by event (checksums), then moved in: a longer copy of the active file replaces a
     * shorter one. The index records sha256, size and GTID state of every file.
     */
    async archiveBinlogs(req: { drillId: string; source: SourceSpec; facts: SourceFacts; fromFile?: string }): Promise<ArchivedBinlog[]> {
      const archiveDir = binlogArchiveDir(deps.paths, req.source.name);
      const flavor = req.facts.identity.flavor;
      let wanted = req.fromFile;
      if (wanted === undefined) {
        const backups = await listPublishedBackups(deps.paths, req.source.name);
        const oldest = backups.sort((a, b) => compareCoordinates(a.coordinates, b.coordinates))[0];
        // Without a backup, an archive already started simply continues.
        const newest = (await archivedNames(archiveDir)).pop();
        if (!oldest && !newest) throw new DrillError(DrillErrorTypes.BadTarget, `source ${req.source.name} has no published backup: point-in-time recovery needs one taken before the target (a backup taken now would contain the damage)`);
        wanted = oldest ? oldest.coordinates.file : newest!;
      }
      const resumeAt = archiveResumeFile(await archivedNames(archiveDir), wanted);
      // An earlier attempt of this activity can still be running when its retry starts (its
      // heartbeat timed out on a starved worker). A staging folder and tool container shared by
      // attempts let the old attempt's cleanup delete the retry's copy while the tool was writing
      // it: the tool exited 0 and nothing was copied. Each attempt has its own; a retry first
      // stops whatever earlier attempts left running and drops their staging.
      const attempt = activityAttempt();
      const toolStep = (n: number) => `binlog-attempt-${n}`;
      for (let earlier = 1; earlier < attempt; earlier++) await deps.runtime.remove(toolContainerName(req.drillId, toolStep(earlier)));
      const stagingRoot = path.join(archiveDir, `.staging-${safeSegment(req.drillId)}`);
      const staging = path.join(stagingRoot, `attempt-${attempt}`);
      await rm(stagingRoot, { recursive: true, force: true });
      await mkdir(staging, { recursive: true, mode: 0o750 });
      try {
        const tool = FLAVOR_TOOLS[flavor].binlog;
        const fetchFrom = (fromFile: string) =>
          withHeartbeat(
            () => ({ phase: 'archive', from: fromFile }),
            (signal) =>
              runSourceTool(
                deps,
                {
                  drillId: req.drillId,
                  step: toolStep(attempt),
                  source: req.source,
                  image: req.facts.image,
                  tool,
                  args: ['--read-from-remote-server', '--raw', '--to-last-log', '--result-file=/archive/', fromFile],
                  binds: [`${staging}:/archive`],
                },
                { signal },
              ),
          );
        const purged = (stderr: string) => /Could not find first log|not found|purged/i.test(stderr);
        let fromFile = resumeAt;
        let result = await fetchFrom(fromFile);
        let fetched = result.exitCode === 0 ? await archivedNames(staging) : [];
        const resumeGaveNothing = (result.exitCode !== 0 && purged(result.stderr)) || (result.exitCode === 0 && fetched.length === 0);
        const fallback = resumeGaveNothing ? archiveFallbackFile(wanted, await oldestSourceBinlog(req.source, binlogBase(wanted))) : fromFile;
        if (fallback !== fromFile) {
          // Resuming at the archive's newest file gave nothing (the source purged it): copy from
          // the file the backup needs, or from the oldest one the source still has. A tail of the
          // old newest file that is gone for good stays a hole, which planning reports for
          // ranges crossing it (or for a target it could hide).
          await rm(staging, { recursive: true, force: true });
          await mkdir(staging, { recursive: true, mode: 0o750 });
          fromFile = fallback;
          result = await fetchFrom(fromFile);
          fetched = result.exitCode === 0 ? await archivedNames(staging) : [];
        }
        if (result.exitCode !== 0)
          throw new DrillError(
            purged(result.stderr) ? DrillErrorTypes.BinlogGap : DrillErrorTypes.ToolFailed,
            `${tool} could not copy binlogs from ${fromFile} on source ${req.source.name} (exit ${result.exitCode}): ${result.stderr.trim().slice(-600)}`,
          );
        if (fetched.length === 0) throw new DrillError(DrillErrorTypes.BinlogGap, `no binlog was copied from source ${req.source.name} starting at ${fromFile}`);
        const archived: ArchivedBinlog[] = [];
        const entries: ArchivedFileEntry[] = [];
        await withHeartbeat(
          () => ({ phase: 'archive', verified: archived.length, of: fetched.length }),
          async () => {
            for (const name of fetched) {
              const stagedPath = path.join(staging, name);
              await scanBinlogFileInSteps(name, stagedPath); // throws ArtifactCorrupt on a bad event checksum
              const finalPath = path.join(archiveDir, name);
              const [staged, current] = await Promise.all([stat(stagedPath), stat(finalPath).catch(() => undefined)]);
              if (current) await assertSameHistory(req.source.name, name, stagedPath, finalPath, Math.min(staged.size, current.size));
              if (!current || current.size < staged.size) await rename(stagedPath, finalPath);
              const entry = indexEntry(name, await scanBinlogFileInSteps(name, finalPath), flavor);
              entries.push(entry);
              archived.push({ file: name, bytes: entry.bytes, sha256: entry.sha256 });
            }
          },
        );
        await updateArchiveIndex(deps.paths, req.source.name, flavor, entries);
        return archived;
      } finally {
        await rm(staging, { recursive: true, force: true });
        await rmdir(stagingRoot).catch(() => undefined); // another attempt's folder may still be in it
      }
    },

    /** Decides which archived files to replay and exactly where to stop, from a given backup. Refuses unreachable targets before any restore. */
    async planReplay(req: PlanRequest & { start: BinlogCoordinates; gtidSet?: string }): Promise<ReplayPlan> {
      const backups = await listPublishedBackups(deps.paths, req.source.name);
      return planFrom(req, req.start, req.gtidSet, backups);
    },

    /**
     * For an incident: resolves the target against the whole archive, picks the newest
     * published backup that precedes it (never a new one: it would contain the damage), then
     * plans the replay from that backup's recorded coordinates.
     */
    async planRecovery(req: PlanRequest): Promise<RecoveryPlan> {
      const backups = await listPublishedBackups(deps.paths, req.source.name);
      const oldestBackup = [...backups].sort((a, b) => compareCoordinates(a.coordinates, b.coordinates))[0];
      const { names, transactions, gaps } = await loadArchive(deps, req.source.name, req.flavor, oldestBackup?.coordinates);
      const target = toRecoveryTarget(req.target, req.checkpoint);
      // Resolve from the oldest backup: nothing before it can be recovered.
      const origin = oldestBackup?.coordinates ?? { file: names[0]!, position: 4 };
      let stop: BinlogCoordinates;
      try {
        stop = resolveStop(target, origin, transactions, { bestEffort: req.bestEffort }).stop;
      } catch (err) {
        // Let the precise planning below word the refusal with the window (when a backup exists).
        if (!oldestBackup) throw err;
        stop = oldestBackup.coordinates;
      }
      let backup: BackupCandidate;
      try {
        backup = chooseBaseBackup(backups, stop, describeTarget(target));
      } catch (err) {
        const window = recoverableWindow(backups, gaps, names, summarizeTransaction(transactions[transactions.length - 1]));
        throw new DrillError(DrillErrorTypes.BadTarget, `${(err as Error).message}. ${window.text}`, { details: (err as DrillError).details });
      }
      return { backup, plan: await planFrom(req, backup.coordinates, backup.gtidSet, backups) };
    },

    /** The recoverable window of a source right now: oldest usable backup → last archived transaction, and every gap. */
    async describeArchive(req: { source: SourceSpec; flavor: Flavor }): Promise<RecoverableWindow> {
      const backups = await listPublishedBackups(deps.paths, req.source.name);
      const oldestBackup = [...backups].sort((a, b) => compareCoordinates(a.coordinates, b.coordinates))[0];
      const { names, transactions, gaps } = await loadArchive(deps, req.source.name, req.flavor, oldestBackup?.coordinates);
      return recoverableWindow(backups, gaps, names, summarizeTransaction(transactions[transactions.length - 1]));
    },

    /**
     * Reads back, from the sandbox itself, which transactions it applied and compares them
     * with the archive. MySQL: @@gtid_executed. MariaDB: @@gtid_slave_pos, which only the
     * server's applier keeps (a client replay into a sandbox without binary log leaves none).
     */
    async proveRecoveryPoint(req: { drillId: string; sandbox: SandboxHandle; plan: ReplayPlan; method?: 'applier' | 'client' }): Promise<RecoveryProof> {
      assertOwnSandbox(await deps.runtime.inspect(req.sandbox.name), req.sandbox.name, req.drillId);
      if (req.sandbox.flavor === 'mariadb') {
        // A client replay leaves gtid_slave_pos at the backup's position (mariadb-dump --gtid sets it).
        if (req.method === 'client') return proveByGtidSlavePos('', req.plan.lastApplied, req.plan.firstExcluded);
        const [pos] = await withSession({ socket: req.sandbox.socketPath }, { user: 'root' }, (s) => s.query<{ g: string }>('SELECT @@GLOBAL.gtid_slave_pos AS g'));
        return proveByGtidSlavePos(String(pos?.g ?? ''), req.plan.lastApplied, req.plan.firstExcluded);
      }
      const [row] = await withSession({ socket: req.sandbox.socketPath }, { user: 'root' }, (s) => s.query<{ g: string }>('SELECT @@GLOBAL.gtid_executed AS g'));
      return proveByGtidExecuted(String(row?.g ?? ''), req.plan.expectedGtidSet, req.plan.lastApplied, req.plan.firstExcluded, req.plan.skipped);
    },
  };
}
