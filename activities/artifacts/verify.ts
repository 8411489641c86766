/** Verifies a published backup, logical or physical, against its manifest before a drill uses it. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseManifest } from '../../domain/artifacts/manifest';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { verifyAdoptedBackup } from '../backups/adopt';
import { verifyLogicalDump } from '../dump/verify';
import { verifyBackupChain } from '../physical/chain';
import { verifyPhysicalArtifact } from '../physical/verify';
import type { ActivityDeps } from '../deps';
import type { VerifiedBackup, VerifyDepth } from '../types';
import { currentDrillId, isStoreRef, stagedFile } from './staging';

export function verifyActivities(deps: ActivityDeps) {
  return {
    /**
     * Re-reads a published artifact against its manifest. `depth`:
     * - 'full' (default): size, sha256, a complete gzip stream (its CRC) and the dump trailer.
     * - 'bytes': presence, size and sha256 only (~1 s/GB instead of a whole gunzip). Only for a
     *   logical dump that the parallel restore then loads: it checks the gzip stream and the
     *   trailer as it reads, before it runs the dump's last part. The 'client' restore checks
     *   no trailer: never pair it with 'bytes'.
     * A physical artifact is always verified in full whatever the depth: its restore (tar,
     * mbstream) does not walk the archive the way verifyPhysicalArtifact does.
     */
    async verifyBackup(req: { manifestPath: string; depth?: VerifyDepth }): Promise<VerifiedBackup> {
      // In S3 (an s3:// reference): verified on the staged copy, the result naming the store's objects.
      const manifestPath = await stagedFile(deps, req.manifestPath, currentDrillId('verify'));
      const text = await readFile(manifestPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new DrillError(DrillErrorTypes.BadConfig, `backup manifest ${req.manifestPath} cannot be read (${err.code}); give the path of a published manifest.json`);
      });
      const manifest = parseManifest(text, req.manifestPath);
      if (manifest.origin) return verifyAdoptedBackup(req.manifestPath, { ...manifest, origin: manifest.origin });
      const dumpPath = path.join(path.dirname(manifestPath), manifest.file);
      const refDir = isStoreRef(req.manifestPath) ? path.posix.dirname(req.manifestPath) : path.dirname(req.manifestPath);
      const verified = (depth: VerifyDepth): VerifiedBackup => ({ manifestPath: req.manifestPath, backupDir: refDir, dumpPath: isStoreRef(req.manifestPath) ? `${refDir}/${manifest.file}` : dumpPath, manifest, verified: depth });
      const st = await stat(dumpPath).catch(() => undefined);
      if (!st) throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `backup file ${dumpPath} listed in ${req.manifestPath} is missing`);
      if (st.size !== manifest.bytes)
        throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `backup file ${dumpPath} has ${st.size} bytes but its manifest says ${manifest.bytes}: it was truncated or overwritten`, { details: { actual: st.size, expected: manifest.bytes } });
      if (manifest.kind === 'physical') {
        const metadata = await verifyPhysicalArtifact(dumpPath, manifest);
        // An increment: its whole chain, checked before any prepare.
        if (manifest.chain) await verifyBackupChain(manifestPath, { ...manifest, chain: manifest.chain }, metadata);
        return verified('full');
      }
      const depth = req.depth ?? 'full';
      await verifyLogicalDump(dumpPath, manifest, depth);
      return verified(depth);
    },
  };
}
