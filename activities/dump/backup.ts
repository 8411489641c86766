/**
 * The logical backup: a consistent dump of the source (read, never written to) taken by the
 * flavor's own dump tool, gzip-compressed and hashed while it streams, published with its
 * manifest (artifacts/publish.ts).
 */
import { open } from 'node:fs/promises';
import { DUMP_FILE } from '../../domain/artifacts/manifest';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { DUMP_HEAD_BYTES, checkDumpTrailer, keepDumpTail, mysqldumpArgs, parseDump } from '../../domain/dump/format';
import { backupToolFailure } from '../../domain/backups/interruptions';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { attemptName } from '../../domain/naming';
import { FLAVOR_TOOLS } from '../../domain/flavors';
import type { ExecResult } from '../../adapters/container-runtime';
import { publishBackup, writeCompressedArtifact } from '../artifacts/publish';
import { backupTotal, workProgress } from '../../domain/progress/work';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import { runSourceTool } from '../source/tools';
import type { BackupRequest, PublishedBackup } from '../types';

export function logicalBackupActivities(deps: ActivityDeps) {
  return {
    /**
     * A consistent logical dump with binlog coordinates. A retry adopts an already published
     * backup of the same drill instead of taking a second one.
     */
    async takeLogicalBackup(req: BackupRequest): Promise<PublishedBackup> {
      const { source, facts } = req;
      const flavor = facts.identity.flavor;
      const dumpTool = FLAVOR_TOOLS[flavor].dump;
      return publishBackup(deps, { drillId: req.drillId, source: source.name, fileName: DUMP_FILE, what: 'the dump', attempt: req.attempt }, async ({ backupId, file }) => {
        const createdAt = new Date().toISOString();
        // The dump's head (coordinates) and tail (trailer, MariaDB's GTID), kept as it streams.
        let head = Buffer.alloc(0);
        let tail: Buffer = Buffer.alloc(0);
        let rawBytes = 0;
        const started = Date.now();
        const tap = (chunk: Buffer) => {
          rawBytes += chunk.length;
          if (head.length < DUMP_HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, DUMP_HEAD_BYTES - head.length)]);
          tail = keepDumpTail(tail, chunk);
        };
        const args = mysqldumpArgs({ flavor, databases: facts.databases, optionFile: '/secrets/client.cnf', gtid: facts.gtidMode.toUpperCase() === 'ON' }).filter((a) => !a.startsWith('--defaults-extra-file'));
        let result!: ExecResult;
        const written = await writeCompressedArtifact(file, { gzipLevel: 6, tap }, async (sink, stop) => {
          result = await withHeartbeat(
            () => ({ phase: 'backup', rawBytes, work: workProgress(started, rawBytes, backupTotal(facts.dataBytes)) }),
            (signal) =>
              runSourceTool(deps, { drillId: req.drillId, step: attemptName('dump', req.attempt), source, image: facts.image, tool: dumpTool, args }, { stdout: sink, signal: signal ? AbortSignal.any([signal, stop]) : stop }),
          );
        });
        if (result.exitCode !== 0)
          throw backupToolFailure({ tool: dumpTool, source: source.name, output: result.stderr, exitCode: result.exitCode, otherwise: `${dumpTool} of source ${source.name} exited with ${result.exitCode}: ${result.stderr.trim().slice(-800)}` });
        checkDumpTrailer(tail.toString('utf8'));
        const parsedHead = parseDump(head.toString('utf8'), tail.toString('utf8'), flavor);
        if (!parsedHead.coordinates)
          throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `the dump of ${source.name} has no binlog coordinates (CHANGE MASTER/REPLICATION SOURCE comment); replay cannot start without them`);
        const fh = await open(file, 'r');
        await fh.sync();
        await fh.close();
        const manifest: BackupManifest = {
          format: 1,
          kind: 'logical',
          backupId,
          source: source.name,
          createdAt,
          finishedAt: new Date().toISOString(),
          file: DUMP_FILE,
          bytes: written.bytes,
          sha256: written.sha256,
          uncompressedBytes: written.rawBytes,
          databases: facts.databases,
          coordinates: parsedHead.coordinates,
          gtidSet: parsedHead.gtidSet,
          server: { flavor, version: facts.identity.version },
          tool: { name: dumpTool, version: parsedHead.toolVersion },
        };
        return manifest;
      });
    },
  };
}
