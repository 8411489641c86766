/**
 * Keeps the per-source binlog archive: copies the source's binlogs, verifies them event by
 * event, and indexes each file with its sha256 and GTID state.
 */
import { mkdir, open, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { withSession } from '../../adapters/mysql';
import type { SourceSpec } from '../../config/schema';
import { binlogBase, compareCoordinates, sortBinlogNames } from '../../domain/binlog/files';
import { gtidSetOf } from '../../domain/binlog/gtid';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { FLAVOR_TOOLS } from '../../domain/flavors';
import { toolContainerName } from '../../domain/naming';
import { archiveFallbackFile, archiveResumeFile, type ArchivedFileEntry } from '../../domain/recovery/archive-index';
import { summarizeTransaction } from '../../domain/recovery/transactions';
import type { Flavor } from '../../domain/types';
import { archivedNames, listPublishedBackups, pullArchive, updateArchiveIndex } from '../artifacts/catalog';
import { activityAttempt, withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import { safeSegment } from '../../adapters/local-layout';
import type { ArchivedBinlog, SourceFacts } from '../types';
import { endpointOf, sourceCredentials } from '../../adapters/source-connection';
import { runSourceTool } from '../source/tools';
import { scanBinlogFileInSteps, type ScannedBinlog } from './scan-file';
import { recordArchiveRun } from './archive-lag';

/** The index entry of one archived file, from its scan. */
function indexEntry(file: string, scan: ScannedBinlog, flavor: Flavor): ArchivedFileEntry {
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
  return {
    /**
     * Copies the source's binlogs into the archive, resuming where the archive ends (its
     * newest file may have grown) unless it does not reach back to `fromFile` (default: the
     * oldest published backup's file). Files are fetched into a staging folder, checked
     * event by event (checksums), then moved in: a longer copy of the active file replaces a
     * shorter one. The index records sha256, size and GTID state of every file.
     */
    async archiveBinlogs(req: { drillId: string; source: SourceSpec; facts: SourceFacts; fromFile?: string; rpoTargetSeconds?: number }): Promise<ArchivedBinlog[]> {
      const startedAt = new Date().toISOString();
      // With S3: this host's copy completed from the store first, so archiving resumes where any host left it.
      const archiveDir = await pullArchive(deps.paths, req.source.name);
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
        const index = await updateArchiveIndex(deps.paths, req.source.name, flavor, entries);
        await recordArchiveRun(deps, { source: req.source.name, runId: req.drillId, startedAt, index, rpoTargetSeconds: req.rpoTargetSeconds });
        return archived;
      } finally {
        await rm(staging, { recursive: true, force: true });
        await rmdir(stagingRoot).catch(() => undefined); // another attempt's folder may still be in it
      }
    },
  };
}
