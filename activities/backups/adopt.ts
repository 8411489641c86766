/**
 * A team's own backup, drilled where it is: the backup a request picks out of the team's
 * location passes the door checks (format by content, size against the last one adopted,
 * the whole stream, unchanged while read, the dump's trailer) before any sandbox exists, and
 * gets a manifest in the engine's store that points at it. The team's bytes are only read.
 */
import path from 'node:path';
import { heartbeat } from '@temporalio/activity';
import { inspectBackupDirectory } from '../../adapters/backup-directory';
import { inspectBackup, storedBackupObject } from '../../adapters/backup-reader';
import type { BackupInspection, LastGoodBackup, ReadProgress } from '../../adapters/backup-reader';
import { artifactStoreOf } from '../../adapters/artifact-store';
import type { ArtifactStore } from '../../adapters/artifact-store';
import { safeSegment } from '../../adapters/local-layout';
import { openObjectStore } from '../../adapters/object-store';
import type { SourceSpec, TeamBackupRequest } from '../../config/schema';
import { formatBackupLocation, parseBackupLocation } from '../../domain/artifacts/locations';
import { StoreKeys } from '../../domain/artifacts/store-layout';
import { workProgress } from '../../domain/progress/work';
import type { BackupManifest, BackupOrigin } from '../../domain/artifacts/manifest';
import { checkRestorable, pickBackup } from '../../domain/backups/door-checks';
import type { PickPolicy } from '../../domain/backups/door-checks';
import { shortHash } from '../../domain/naming';
import { teamPhysicalFields } from '../../domain/physical/team-backup';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import type { ActivityDeps } from '../deps';
import type { SourceFacts, VerifiedBackup } from '../types';
import { readPublishedManifests } from '../artifacts/catalog';

/** Adopted backups sit among the engine's own, so PITR and retention see them; their folder holds only the manifest. */
const TEAM_PREFIX = 'team-';

export function adoptActivities(deps: ActivityDeps) {
  return {
    async adoptTeamBackup(req: { drillId: string; source: SourceSpec; facts: SourceFacts; team: TeamBackupRequest }): Promise<VerifiedBackup> {
      const location = parseBackupLocation(req.team.location, req.team.s3 ?? {});
      const where = formatBackupLocation(location);
      const store = await openObjectStore(location);
      try {
        const listed = (await store.list()).map((o) => ({ key: o.key, size: o.size, modifiedMs: o.modified.getTime() }));
        const chosen = pickBackup(where, listed, policyOf(req.team));
        const lastGood = await lastAdoptedBefore(deps, req.source.name, req.team.location, chosen.key, chosen.modifiedMs);
        const checks = { lastGood, minSizeRatio: req.team.minSizeRatio, progress: readHeartbeat(Date.now()) };
        // A directory entry (key `name/`) is a directory backup: mydumper's.
        const inspection = chosen.key.endsWith('/') ? await inspectBackupDirectory(store, chosen.key, checks) : await inspectBackup(storedBackupObject(store, chosen.key), checks);
        checkRestorable(inspection.name, inspection.format, ['logical-dump', 'mydumper', 'mariabackup']);
        const origin: BackupOrigin = { location: req.team.location, ...(req.team.s3 ? { s3: req.team.s3 } : {}), key: chosen.key, where: store.where(chosen.key), observed: inspection.observed };
        const manifest = teamManifest(req, inspection, origin, new Date(chosen.modifiedMs).toISOString());
        const folder = `${TEAM_PREFIX}${safeSegment(path.basename(chosen.key)).slice(0, 80)}-${inspection.sha256.slice(0, 12)}`;
        const artifacts = await artifactStoreOf(deps.paths);
        const manifestPath = await writeManifestOnce(artifacts, StoreKeys.manifest(req.source.name, folder), manifest);
        return { manifestPath, backupDir: artifacts.ref(StoreKeys.backup(req.source.name, folder)).replace(/\/$/, ''), dumpPath: origin.where, manifest, verified: 'full' };
      } finally {
        store.close();
      }
    },
  };
}

function policyOf(team: TeamBackupRequest): PickPolicy {
  if (typeof team.pick === 'object') return { kind: 'named', key: team.pick.key };
  if (team.pick === 'random') return { kind: 'random', withinDays: team.randomWithinDays, nowMs: Date.now(), random: Math.random() };
  return { kind: team.pick };
}

/**
 * The newest backup of the same location adopted earlier and made before this one: what "much
 * smaller than the last good one" compares with (an old backup picked by `oldest` is not held
 * against a newer, larger one, nor a weekly full against a nightly schema dump elsewhere).
 */
async function lastAdoptedBefore(deps: ActivityDeps, source: string, location: string, key: string, modifiedMs: number): Promise<LastGoodBackup | undefined> {
  let newest: BackupManifest | undefined;
  for (const m of await readPublishedManifests(deps.paths, source)) {
    if ('problem' in m || !m.folder.startsWith(TEAM_PREFIX)) continue;
    if (m.origin && m.origin.location === location && m.origin.key !== key && Date.parse(m.createdAt) < modifiedMs && (!newest || m.createdAt > newest.createdAt)) newest = m;
  }
  return newest?.origin ? { name: newest.origin.where, size: newest.uncompressedBytes, measure: 'plain' } : undefined;
}

function teamManifest(req: { drillId: string; source: SourceSpec; facts: SourceFacts }, i: BackupInspection, origin: BackupOrigin, modifiedAt: string): BackupManifest {
  const c = i.coordinates;
  // Without coordinates of this source's binlogs, the backup is drilled as it was taken.
  const withoutCoordinates = !c?.found
    ? (c?.reason ?? 'it records no binlog coordinates: cannot be rolled forward')
    : c.of === 'its-source'
      ? `it was taken with --dump-slave: its coordinates are in the binlogs of the replica's source, not of ${req.source.name}`
      : undefined;
  const scope = i.format.scope;
  const databases = i.physical ? i.physical.databases : scope && scope.kind !== 'one-database' ? scope.seen.filter((d) => d !== 'mysql') : scope?.database ? [scope.database] : (req.source.databases ?? []);
  return {
    format: 1,
    kind: i.physical ? 'physical' : 'logical',
    ...(i.physical ? teamPhysicalFields(i.format, i.physical) : {}),
    backupId: `${TEAM_PREFIX}${shortHash(`${origin.where}\n${i.sha256}`)}`,
    source: req.source.name,
    createdAt: modifiedAt,
    finishedAt: modifiedAt,
    file: path.basename(origin.key),
    bytes: i.rawBytes,
    sha256: i.sha256,
    uncompressedBytes: Math.max(1, i.plainBytes),
    databases,
    ...(c?.found && !withoutCoordinates ? { coordinates: c.point.coordinates, ...(c.point.gtidSet ? { gtidSet: c.point.gtidSet } : {}) } : { withoutCoordinates: withoutCoordinates! }),
    server: { flavor: i.format.flavor === 'unknown' ? req.facts.identity.flavor : i.format.flavor, version: i.format.serverVersion ?? req.facts.identity.version },
    tool: { name: i.format.tool, ...(i.format.toolVersion ? { version: i.format.toolVersion } : {}) },
    compression: i.format.compression,
    ...(i.format.kind === 'mydumper' ? { directory: 'mydumper' as const } : {}),
    ...(scope?.kind === 'one-database' && scope.database ? { intoDatabase: scope.database } : {}),
    origin,
  };
}

/** Create-or-adopt: a retry, or a later drill of the same bytes, finds the manifest already there. */
async function writeManifestOnce(store: ArtifactStore, key: string, manifest: BackupManifest): Promise<string> {
  if ((await store.read(key)) === undefined) await store.write(key, JSON.stringify(manifest, null, 2) + '\n');
  return store.ref(key);
}


/** Heartbeats a team backup's read: its bytes against the object's size. */
function readHeartbeat(startedAtMs: number): (p: ReadProgress) => void {
  return (p) => heartbeat({ phase: 'verify-artifact', ...p, work: workProgress(startedAtMs, p.rawBytes, { bytesTotal: p.ofRawBytes }) });
}

/** An adopted backup picked again later (PITR): its door checks again, and the same bytes as when adopted. */
export async function verifyAdoptedBackup(manifestPath: string, manifest: BackupManifest & { origin: BackupOrigin }): Promise<VerifiedBackup> {
  const { origin } = manifest;
  const store = await openObjectStore(parseBackupLocation(origin.location, origin.s3 ?? {}));
  try {
    const progress = readHeartbeat(Date.now());
    // A directory backup (mydumper, mariabackup) has a key ending in '/'.
    const inspection = origin.key.endsWith('/') ? await inspectBackupDirectory(store, origin.key, { progress }) : await inspectBackup(storedBackupObject(store, origin.key), { progress });
    if (inspection.sha256 !== manifest.sha256)
      throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `${origin.where} has sha256 ${inspection.sha256} but had ${manifest.sha256} when it was adopted: the team's job rewrote it; drill it again to adopt the new one`, { details: { where: origin.where } });
    return { manifestPath, backupDir: path.dirname(manifestPath), dumpPath: origin.where, manifest, verified: 'full' };
  } finally {
    store.close();
  }
}
