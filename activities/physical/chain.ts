/**
 * Incremental chains of the engine's own mariabackup streams, on disk: which published backup
 * the next increment is taken on, the base folder `--incremental-basedir` reads, and a chain's
 * members verified and checked before any prepare. Decisions live in domain/physical/chain.ts.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, parseManifest } from '../../domain/artifacts/manifest';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { coordinatesFromPhysical } from '../../domain/backups/coordinates';
import { formatCoordinates } from '../../domain/binlog/files';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { checkBackupChain, checkpointsFileText, chooseIncrementBase, parseCheckpoints, recordedLink } from '../../domain/physical/chain';
import type { BackupLsn, ChainLink, IncrementBaseCandidate, IncrementDecision } from '../../domain/physical/chain';
import { verifyPhysicalArtifact } from './verify';
import { readPublishedManifests } from '../artifacts/catalog';
import type { StoredManifest } from '../artifacts/catalog';
import type { EnginePaths } from '../deps';

/** A member of a chain: a sibling folder of the increment's own, named by its backupId. */
export function chainMemberDir(incrementDir: string, backupId: string): string {
  return path.join(path.dirname(incrementDir), backupId);
}

async function readMemberManifest(dir: string): Promise<BackupManifest | string> {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  const text = await readFile(manifestPath, 'utf8').catch(() => undefined);
  if (text === undefined) return `its folder ${dir} has no ${MANIFEST_FILE}: removed by hand or by retention`;
  try {
    return parseManifest(text, manifestPath);
  } catch (err) {
    return (err as Error).message;
  }
}

/** Decides what the next backup of a source is: an increment on its newest mariabackup stream, or a full one. */
export async function decideIncrement(paths: EnginePaths, source: string, maxIncrements: number): Promise<IncrementDecision> {
  const manifests = (await readPublishedManifests(paths, source)).filter((m): m is StoredManifest => !('problem' in m));
  const published = new Set(manifests.map((m) => m.folder));
  const candidates: IncrementBaseCandidate[] = [];
  for (const m of manifests) {
    if (m.kind !== 'physical' || m.archive !== 'mbstream' || m.origin) continue;
    const c: IncrementBaseCandidate = { backupId: m.backupId, createdAt: m.createdAt, ...(m.lsn ? { lsn: m.lsn } : {}) };
    if (m.chain) {
      c.chain = m.chain.members;
      const missing = m.chain.members.slice(0, -1).filter((member) => !published.has(member.backupId)).map((member) => member.backupId);
      if (missing.length) c.missingMembers = missing;
    }
    candidates.push(c);
  }
  return chooseIncrementBase(candidates, maxIncrements);
}

/** Writes the folder `mariabackup --incremental-basedir` reads: the base's checkpoints file (both names mariabackup versions look for). */
export async function writeIncrementBasedir(dir: string, lsn: BackupLsn): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const text = checkpointsFileText(lsn);
  await writeFile(path.join(dir, 'xtrabackup_checkpoints'), text, { mode: 0o640 });
  await writeFile(path.join(dir, 'mariadb_backup_checkpoints'), text, { mode: 0o640 });
}

/** The artifacts of an increment's chain, the full first and the increment's own last. */
export function chainArtifacts(artifactPath: string, chain: NonNullable<BackupManifest['chain']>): string[] {
  const ownDir = path.dirname(artifactPath);
  return chain.members.map((m, i) => (i === chain.members.length - 1 ? artifactPath : path.join(chainMemberDir(ownDir, m.backupId), path.basename(artifactPath))));
}

/**
 * Verifies an increment's whole chain before any prepare: first the members' manifests and the
 * LSNs they recorded (a missing or out-of-order member is refused before a byte is read), then
 * each member's artifact in full (size, sha256, every mbstream chunk) with the checkpoints file
 * in it, checked again. The chain's coordinates are its last increment's: those of its binlog
 * info file, which must be the manifest's.
 */
export async function verifyBackupChain(manifestPath: string, manifest: BackupManifest & { chain: NonNullable<BackupManifest['chain']> }, tip: { checkpoints?: string; binlogInfo?: string }): Promise<void> {
  const ownDir = path.dirname(manifestPath);
  const { members } = manifest.chain;
  const found = await Promise.all(members.slice(0, -1).map(async (member) => ({ member, m: await readMemberManifest(chainMemberDir(ownDir, member.backupId)) })));
  const recorded: ChainLink[] = found.map(({ member, m }) =>
    typeof m === 'string' ? recordedLink(member, undefined, m) : recordedLink(member, m.lsn, m.lsn ? undefined : 'its manifest records no LSNs'),
  );
  recorded.push(recordedLink(members.at(-1)!, manifest.lsn));
  checkBackupChain(manifest.backupId, members, recorded);

  const read: ChainLink[] = [];
  for (const { member, m } of found) {
    const memberManifest = m as BackupManifest;
    const file = path.join(chainMemberDir(ownDir, member.backupId), memberManifest.file);
    const st = await stat(file).catch(() => undefined);
    if (!st) throw new DrillError(DrillErrorTypes.BrokenBackupChain, `backup chain of ${manifest.backupId} cannot be prepared: the artifact ${file} of ${member.backupId} is missing`, { details: { missing: member.backupId } });
    if (st.size !== memberManifest.bytes)
      throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `backup file ${file} (${member.backupId}, in the chain of ${manifest.backupId}) has ${st.size} bytes but its manifest says ${memberManifest.bytes}: it was truncated or overwritten`);
    const metadata = await verifyPhysicalArtifact(file, memberManifest);
    read.push({ backupId: member.backupId, ...(parseCheckpoints(metadata.checkpoints) ? { checkpoints: parseCheckpoints(metadata.checkpoints)! } : {}) });
  }
  read.push({ backupId: manifest.backupId, ...(parseCheckpoints(tip.checkpoints) ? { checkpoints: parseCheckpoints(tip.checkpoints)! } : {}) });
  checkBackupChain(manifest.backupId, members, read);

  const own = coordinatesFromPhysical(tip.binlogInfo !== undefined ? { binlogInfo: tip.binlogInfo } : {});
  if (own.found && manifest.coordinates && formatCoordinates(own.point.coordinates) !== formatCoordinates(manifest.coordinates))
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `the last increment ${manifest.backupId} of the chain says it stands at ${formatCoordinates(own.point.coordinates)} (its binlog info file) but its manifest says ${formatCoordinates(manifest.coordinates)}: the manifest was changed; take a new backup`);
}
