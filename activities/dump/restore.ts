/**
 * Restore activities: load a logical dump into the drill's sandbox and replay archived
 * binlogs into it. Both refuse any target but the drill's own labelled sandbox.
 */
import path from 'node:path';
import { withSession } from '../../adapters/mysql';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { replayPipeline } from '../../domain/replay/client-pipeline';
import { FLAVOR_TOOLS, localClient, resetSandboxSql, shellQuote, SYSTEM_DATABASES } from '../../domain/flavors';
import type { PhaseOutcome, ReplayPlan, RestoreOutcome, SandboxHandle, VerifyDepth } from '../types';
import { withHeartbeat } from '../boundary';
import { drillWorkDir } from '../../adapters/local-layout';
import { stagedFile } from '../artifacts/staging';
import { localArchiveDir } from '../artifacts/catalog';
import type { ActivityDeps } from '../deps';
import { openDumpInput } from './dump-input';
import { restoreMydumperDirectory } from './mydumper-restore';
import { parallelRestoreWithHeartbeat } from './parallel-restore';
import type { BackupManifest, BackupOrigin } from '../../domain/artifacts/manifest';
import type { Compression } from '../../domain/backups/format';
import { replayWithApplier, replayWorkersFor, stopApplier } from '../replay/applier';
import { SANDBOX_BACKUP_DIR, SANDBOX_BINLOG_DIR, assertOwnSandbox, sandboxOutOfMemory } from '../sandbox/sandbox';

export function restoreActivities(deps: ActivityDeps) {
  async function guard(sandbox: SandboxHandle, drillId: string): Promise<void> {
    assertOwnSandbox(await deps.runtime.inspect(sandbox.name), sandbox.name, drillId);
  }

  /**
   * A tool that failed because its sandbox went away (killed, stopped by a Docker daemon restart)
   * says nothing about the dump or the binlogs: that failure becomes Transient, and the drill
   * restarts the sandbox and restores again from the dump; one the kernel killed at its memory
   * limit becomes SandboxOutOfMemory. Against a live sandbox it stands.
   */
  async function failedUnlessSandboxLost(sandbox: SandboxHandle, what: string, err: unknown): Promise<never> {
    const outOfMemory = await sandboxOutOfMemory(deps, sandbox.name, what);
    if (outOfMemory) throw outOfMemory;
    if ((err as DrillError)?.type !== DrillErrorTypes.ToolFailed) throw err;
    const answers = await withSession({ socket: sandbox.socketPath }, { user: 'root' }, (s) => s.query('SELECT 1 AS ok')).then(() => true, () => false);
    if (answers) throw err;
    throw new DrillError(DrillErrorTypes.Transient, `sandbox ${sandbox.name} stopped answering during the ${what} (${(err as Error).message.slice(0, 600)}); the drill restarts it and restores again from the dump`, { cause: err });
  }

  async function runInSandbox(sandbox: SandboxHandle, what: string, pipelineText: string, progress: () => unknown): Promise<void> {
    const result = await withHeartbeat(progress, (signal) =>
      deps.runtime.exec(sandbox.name, ['bash', '-o', 'pipefail', '-c', pipelineText], { env: ['TZ=UTC'], signal }),
    );
    if (result.exitCode !== 0)
      throw new DrillError(DrillErrorTypes.ToolFailed, `${what} in sandbox ${sandbox.name} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-1200)}`, { details: { exitCode: result.exitCode } });
  }

  /**
   * Empties the sandbox (so a retry starts clean), then loads the dump.
   *
   * 'parallel' (default, parallel-restore.ts) completes the artifact's verification as it
   * reads: a broken gzip stream, bytes that do not hash to `expectedSha256` (when given) or a
   * dump without its "-- Dump completed" trailer fail the restore (ArtifactCorrupt, DumpTruncated)
   * before the dump's last part runs. It is the only method that may follow verifyBackup at depth
   * 'bytes'. 'client' streams the dump into the server's own client inside the sandbox (server
   * and client versions always match) and checks no trailer: it needs depth 'full' first, and
   * a request saying `verified: 'bytes'` is refused.
   */
  async function restoreLogicalDump(req: {
    drillId: string;
    sandbox: SandboxHandle;
    dumpFile: string;
    method?: 'parallel' | 'client';
    /** The manifest's sha256: the parallel restore compares the bytes it reads with it. */
    expectedSha256?: string;
    /** The depth verifyBackup checked the dump at. */
    verified?: VerifyDepth;
    /** From the manifest: how the dump is compressed (default gzip) and, for a team's backup, where its bytes are. */
    compression?: Compression;
    origin?: BackupOrigin;
    intoDatabase?: string;
    /** A team's directory backup (mydumper): loaded file by file from where it is. */
    directory?: BackupManifest['directory'];
  }): Promise<RestoreOutcome> {
    // A team's backup stays where it is, and may be zstd or xz: only the parallel restore streams those.
    const method = req.origin || (req.compression ?? 'gzip') !== 'gzip' ? 'parallel' : (req.method ?? 'parallel');
    if (method === 'client' && req.verified === 'bytes')
      throw new DrillError(DrillErrorTypes.BadConfig, `the dump ${req.dumpFile} was verified only by size and sha256, and restoreMethod 'client' does not check that the dump ends with its trailer: verify it at depth 'full' or restore it with 'parallel'`);
    const started = Date.now();
    // In S3: the dump staged on this host (size and sha256 checked on arrival); the sandbox mounts the same copy.
    const dumpFile = req.origin ? req.dumpFile : await stagedFile(deps, req.dumpFile, req.drillId);
    await guard(req.sandbox, req.drillId);
    await withSession({ socket: req.sandbox.socketPath }, { user: 'root' }, async (s) => {
      await stopApplier(s, req.sandbox.flavor);
      const dbs = (await s.query<{ name: string }>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA')).map((r) => r.name).filter((d) => !SYSTEM_DATABASES.includes(d.toLowerCase()));
      for (const sql of resetSandboxSql(req.sandbox.flavor, dbs)) {
        // MySQL before 8.2 knows RESET BINARY LOGS AND GTIDS as RESET MASTER.
        await s.query(sql).catch((err) => (sql.startsWith('RESET BINARY') ? s.query('RESET MASTER') : Promise.reject(err)));
      }
    });
    if (req.directory === 'mydumper') {
      if (!req.origin || !req.expectedSha256) throw new DrillError(DrillErrorTypes.BadConfig, `the mydumper directory ${req.dumpFile} has no origin or sha256 in its manifest: drill it again to adopt it`);
      return restoreMydumperDirectory(deps, req.sandbox, { origin: req.origin, expectedSha256: req.expectedSha256 });
    }
    // Several sessions at once (parallel-restore.ts); one gunzip | client below is the fallback.
    if (method === 'parallel') {
      // Chunks read ahead wait in the drill's work folder, which the cleanup (or the janitor) removes.
      const input = await openDumpInput(dumpFile, { compression: req.compression, origin: req.origin, intoDatabase: req.intoDatabase });
      const stats = await parallelRestoreWithHeartbeat(deps, req.sandbox, input, { expectedSha256: req.expectedSha256, spillDir: drillWorkDir(deps.paths, req.drillId) }).finally(() => input.close());
      // The parts (schema, data, indexes, post) go into the history, for the benchmark and operators.
      return { seconds: (Date.now() - started) / 1000, schemaSeconds: stats.schemaSeconds, dataSeconds: stats.dataSeconds, indexesSeconds: stats.indexesSeconds, postSeconds: stats.postSeconds, rows: stats.loadDataRows, unchangedRows: stats.unchangedRows, bytes: stats.bytes, ...(stats.skippedSchemas.length > 0 ? { skippedSchemas: stats.skippedSchemas } : {}), rowsLoaded: stats.rowsLoaded, declaredObjects: stats.declaredObjects };
    }
    const dump = path.posix.join(SANDBOX_BACKUP_DIR, path.basename(dumpFile));
    await runInSandbox(req.sandbox, 'restore of the dump', `gunzip -c ${shellQuote(dump)} | ${localClient(req.sandbox.flavor).join(' ')}`, () => ({ phase: 'restore', seconds: Math.round((Date.now() - started) / 1000) }));
    return { seconds: (Date.now() - started) / 1000 };
  }

  /**
   * Replays the planned binlog range in ONE client run (temporary tables and session state
   * survive file boundaries), starting at the backup's coordinates and stopping exactly at
   * the plan's stop position. TZ=UTC: the tool reads times in its own zone.
   */
  async function replayBinlogs(req: { drillId: string; sandbox: SandboxHandle; plan: ReplayPlan; method?: 'applier' | 'client'; workers?: number }): Promise<PhaseOutcome & { transactions: number; workers?: number }> {
    const started = Date.now();
    const { plan } = req;
    if (plan.transactions === 0 || plan.files.length === 0) return { seconds: 0, transactions: 0 };
    await guard(req.sandbox, req.drillId);
    // With S3: the archive the sandbox mounts completed on this host (each file checked against the index).
    await localArchiveDir(deps.paths, plan.archiveDir);
    // The server's own applier (replay/applier.ts); the client pipeline below is the fallback.
    if ((req.method ?? 'applier') === 'applier') {
      const workers = replayWorkersFor(req.sandbox, req.workers);
      await replayWithApplier(deps, req.sandbox, plan, workers);
      return { seconds: (Date.now() - started) / 1000, transactions: plan.transactions, workers };
    }
    // Segments around skipped transactions, all into one client session (replayPipeline).
    const pipelineText = replayPipeline(FLAVOR_TOOLS[req.sandbox.flavor].binlog, SANDBOX_BINLOG_DIR, plan.segments, localClient(req.sandbox.flavor));
    await runInSandbox(req.sandbox, 'binlog replay', pipelineText, () => ({ phase: 'replay', seconds: Math.round((Date.now() - started) / 1000), stop: plan.stop }));
    return { seconds: (Date.now() - started) / 1000, transactions: plan.transactions };
  }

  return {
    restoreLogicalDump: (req: Parameters<typeof restoreLogicalDump>[0]) => restoreLogicalDump(req).catch((err: unknown) => failedUnlessSandboxLost(req.sandbox, 'restore', err)),
    replayBinlogs: (req: Parameters<typeof replayBinlogs>[0]) => replayBinlogs(req).catch((err: unknown) => failedUnlessSandboxLost(req.sandbox, 'binlog replay', err)),
  };
}
