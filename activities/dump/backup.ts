/**
 * Backup activities: read the source (never write to it), take a consistent logical dump,
 * publish it atomically with a manifest, verify published artifacts.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, Writable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { openSession, withSession } from '../../adapters/mysql';
import type { Endpoint } from '../../adapters/mysql';
import { resolveSecret } from '../../adapters/secrets';
import type { SourceSpec } from '../../config/schema';
import { groupColumns, serverChecksumObstacle, serverChecksumValue, tableChecksumSql, tableKey } from '../../domain/checks/checksums';
import { COLUMNS_SQL, quoteIdentifier } from '../../domain/sql';
import type { ColumnRow } from '../../domain/sql';
import type { ChecksumMethod, ColumnInfo, TableState } from '../../domain/checks/checksums';
import { DUMP_HEAD_BYTES, DUMP_STREAM_CHUNK_BYTES, USER_DATABASES_SQL, checkDumpTrailer, keepDumpTail, mysqldumpArgs, parseDump } from '../../domain/dump/format';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { FLAVOR_TOOLS, detectFlavor } from '../../domain/flavors';
import { DUMP_FILE, MANIFEST_FILE, parseManifest } from '../../domain/artifacts/manifest';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import type { Flavor, RecoveryPoint, ServerIdentity } from '../../domain/types';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import { safeSegment, sourceArtifactDir } from '../deps';
import { verifyPhysicalArtifact } from '../physical/backups';
import { runSourceTool } from '../source/tools';

export interface SourceFacts {
  identity: ServerIdentity;
  image: string;
  databases: string[];
  binlogFormat: string;
  gtidMode: string;
  /** InnoDB's estimate of the databases' data and index bytes: what a restore will hold (sizes the sandbox's buffer pool). */
  dataBytes?: number;
}

/** How deep {@link backupActivities}' verifyBackup read an artifact. */
export type VerifyDepth = 'full' | 'bytes';

export interface PublishedBackup {
  manifestPath: string;
  /** The folder holding dump and manifest (mounted read-only into the sandbox). */
  backupDir: string;
  dumpPath: string;
  manifest: BackupManifest;
}

/** A published backup and how deep verifyBackup checked it ('full' for a physical one, whatever was asked). */
export interface VerifiedBackup extends PublishedBackup {
  verified: VerifyDepth;
}

/** The source's state at one consistent snapshot: the reference a restored sandbox must match. */
export interface SourceCheckpoint {
  takenAt: string;
  point: RecoveryPoint;
  tables: TableState[];
  /** The source's VERSION(): CHECKSUM TABLE values compare only between servers of one version. */
  serverVersion?: string;
}

export function endpointOf(source: SourceSpec): Endpoint {
  const c = source.connection;
  return 'socket' in c ? { socket: c.socket } : { host: c.host, port: c.port };
}

export async function sourceCredentials(source: SourceSpec) {
  return { user: source.user, password: await resolveSecret(source.passwordRef, `source ${source.name} password`) };
}

type QuerySession = { query<T>(sql: string, p?: unknown[]): Promise<T[]> };

/** One table to take the state of: its columns (in ordinal order) and how to checksum it. */
export interface TableStateItem {
  db: string;
  table: string;
  columns: ColumnInfo[];
  method: ChecksumMethod;
}

/**
 * Which base tables to take the state of, and how.
 * `method: 'server'` uses CHECKSUM TABLE for every table it is valid for; `methods` (the
 * sandbox side) repeats, table by table, what the source's checkpoint used.
 */
export async function tableStateItems(
  session: QuerySession,
  databases: string[],
  opts: { method?: ChecksumMethod; methods?: ReadonlyMap<string, ChecksumMethod> } = {},
): Promise<TableStateItem[]> {
  if (databases.length === 0) return [];
  const columns = groupColumns(await session.query<ColumnRow>(COLUMNS_SQL, [databases]));
  const versioned =
    opts.method === 'server'
      ? new Set(
          (await session.query<{ db: string; t: string }>("SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'SYSTEM VERSIONED' AND TABLE_SCHEMA IN (?)", [databases])).map((r) =>
            tableKey(r.db, r.t),
          ),
        )
      : new Set<string>();
  return columns.map((t) => {
    const key = tableKey(t.db, t.table);
    const method = opts.methods?.get(key) ?? (opts.method === 'server' && serverChecksumObstacle(t.columns, versioned.has(key)) === undefined ? 'server' : 'rows');
    return { ...t, method };
  });
}

/** The row count and checksum of one table, read on `session` (inside the caller's transaction, if any). */
export async function tableState(session: QuerySession, t: TableStateItem): Promise<TableState> {
  if (t.method === 'server') {
    const name = `${quoteIdentifier(t.db)}.${quoteIdentifier(t.table)}`;
    const [count] = await session.query<{ n: string | number }>(`SELECT COUNT(*) AS n FROM ${name}`);
    const [sum] = await session.query<{ Checksum: string | number | null }>(`CHECKSUM TABLE ${name} EXTENDED`);
    return { db: t.db, table: t.table, rowCount: Number(count.n), checksum: serverChecksumValue(sum?.Checksum ?? null), method: 'server' };
  }
  const [row] = await session.query<{ row_count: string | number; checksum: string | number | null }>(tableChecksumSql(t.db, t.table, t.columns));
  return { db: t.db, table: t.table, rowCount: Number(row.row_count), checksum: String(row.checksum ?? '') };
}

/**
 * Lists base tables and their checksums, one after another on one session: inside the
 * caller's (snapshot) transaction, every state is of the same point. Options as in
 * {@link tableStateItems}.
 */
export async function tableStates(session: QuerySession, databases: string[], opts: Parameters<typeof tableStateItems>[2] = {}): Promise<TableState[]> {
  const states: TableState[] = [];
  for (const t of await tableStateItems(session, databases, opts)) states.push(await tableState(session, t));
  return states;
}

export function backupActivities(deps: ActivityDeps) {
  return {
    /** Reads who the source is and refuses sources that cannot support a drill. */
    async inspectSource(source: SourceSpec): Promise<SourceFacts> {
      const creds = await sourceCredentials(source);
      return withSession(endpointOf(source), creds, async (s) => {
        const [v] = await s.query<{ version: string; serverId: number; logBin: number; binlogFormat: string }>(
          'SELECT VERSION() AS version, @@server_id AS serverId, @@log_bin AS logBin, @@binlog_format AS binlogFormat',
        );
        const flavor = detectFlavor(v.version);
        if (source.flavor && source.flavor !== flavor)
          throw new DrillError(DrillErrorTypes.VersionMismatch, `source ${source.name} is configured as ${source.flavor} but the server says ${v.version}; fix flavor in the config`);
        if (Number(v.logBin) !== 1)
          throw new DrillError(DrillErrorTypes.BadConfig, `binary logging is off on source ${source.name}: point-in-time recovery needs log_bin=ON and binlog_format=ROW`);
        if (String(v.binlogFormat).toUpperCase() !== 'ROW')
          throw new DrillError(DrillErrorTypes.BadConfig, `source ${source.name} has binlog_format=${v.binlogFormat}; set binlog_format=ROW so replay is deterministic`);
        const gtidMode = flavor === 'mysql' ? String((await s.query<{ m: string }>('SELECT @@gtid_mode AS m'))[0].m) : 'ON';
        let serverUuid: string | undefined;
        if (flavor === 'mysql') serverUuid = String((await s.query<{ u: string }>('SELECT @@server_uuid AS u'))[0].u);
        const all = (await s.query<{ name: string }>(USER_DATABASES_SQL)).map((r) => r.name);
        const databases = source.databases ?? all;
        const missing = databases.filter((d) => !all.includes(d));
        if (missing.length > 0)
          throw new DrillError(DrillErrorTypes.BadConfig, `source ${source.name} has no database ${missing.join(', ')}; fix databases in the config (it has: ${all.join(', ') || 'none'})`);
        if (databases.length === 0) throw new DrillError(DrillErrorTypes.BadConfig, `source ${source.name} has no user database to back up`);
        const [size] = await s.query<{ bytes: string | number | null }>('SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?)', [databases]);
        return {
          identity: { flavor, version: v.version, serverId: Number(v.serverId), serverUuid },
          image: source.image ?? FLAVOR_TOOLS[flavor].defaultImage,
          databases,
          binlogFormat: String(v.binlogFormat),
          gtidMode,
          dataBytes: Number(size?.bytes ?? 0),
        };
      });
    },

    /**
     * A consistent logical dump with binlog coordinates, gzip-compressed while it streams,
     * written under a temporary name and published by one rename with its manifest. A retry
     * adopts an already published backup of the same drill instead of taking a second one.
     */
    async takeLogicalBackup(req: { drillId: string; source: SourceSpec; facts: SourceFacts }): Promise<PublishedBackup> {
      const { source, facts } = req;
      const backupId = safeSegment(req.drillId);
      const backupsDir = path.join(sourceArtifactDir(deps.paths, source.name), 'backups');
      const finalDir = path.join(backupsDir, backupId);
      const manifestPath = path.join(finalDir, MANIFEST_FILE);
      const existing = await readFile(manifestPath, 'utf8').catch(() => undefined);
      if (existing !== undefined) return { manifestPath, backupDir: finalDir, dumpPath: path.join(finalDir, DUMP_FILE), manifest: parseManifest(existing, manifestPath) };

      const partialDir = path.join(backupsDir, `.partial-${backupId}`);
      await rm(partialDir, { recursive: true, force: true });
      await mkdir(partialDir, { recursive: true, mode: 0o750 });
      const dumpPath = path.join(partialDir, DUMP_FILE);
      const createdAt = new Date().toISOString();
      const flavor: Flavor = facts.identity.flavor;

      const hash = createHash('sha256');
      let bytes = 0;
      let rawBytes = 0;
      let head = Buffer.alloc(0);
      let tail: Buffer = Buffer.alloc(0);
      // Keeps the dump's head (coordinates) and tail (trailer, MariaDB's GTID) as it streams.
      const capture = new Transform({
        transform(chunk: Buffer, _e, done) {
          rawBytes += chunk.length;
          if (head.length < DUMP_HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, DUMP_HEAD_BYTES - head.length)]);
          tail = keepDumpTail(tail, chunk);
          done(null, chunk);
        },
      });
      const hashing = new Transform({
        transform(chunk: Buffer, _e, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      // One pipeline with backpressure: a slow disk pauses the dumper instead of filling the
      // worker's memory. A failure (a full disk) stops the dumper at once and is reported below;
      // it is caught here so it never becomes an unhandled rejection that kills the worker.
      const stopDumper = new AbortController();
      let writeError: NodeJS.ErrnoException | undefined;
      const written = pipeline(capture, createGzip({ level: 6 }), hashing, createWriteStream(dumpPath, { mode: 0o640 })).catch((err: NodeJS.ErrnoException) => {
        writeError = err;
        stopDumper.abort();
      });
      const args = mysqldumpArgs({ flavor, databases: facts.databases, optionFile: '/secrets/client.cnf', gtid: facts.gtidMode.toUpperCase() === 'ON' }).filter((a) => !a.startsWith('--defaults-extra-file'));
      const result = await withHeartbeat(
        () => ({ phase: 'backup', rawBytes }),
        (signal) =>
          runSourceTool(
            deps,
            { drillId: req.drillId, step: 'dump', source, image: facts.image, tool: FLAVOR_TOOLS[flavor].dump, args },
            { stdout: capture, signal: signal ? AbortSignal.any([signal, stopDumper.signal]) : stopDumper.signal },
          ),
      );
      if (!capture.destroyed) capture.end();
      await written;
      try {
        if (writeError) throw writeError;
        if (result.exitCode !== 0)
          throw new DrillError(DrillErrorTypes.ToolFailed, `${FLAVOR_TOOLS[flavor].dump} of source ${source.name} exited with ${result.exitCode}: ${result.stderr.trim().slice(-800)}`, { details: { exitCode: result.exitCode } });
        checkDumpTrailer(tail.toString('utf8'));
        const parsedHead = parseDump(head.toString('utf8'), tail.toString('utf8'), flavor);
        if (!parsedHead.coordinates)
          throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `the dump of ${source.name} has no binlog coordinates (CHANGE MASTER/REPLICATION SOURCE comment); replay cannot start without them`);
        const fh = await open(dumpPath, 'r');
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
          bytes,
          sha256: hash.digest('hex'),
          uncompressedBytes: rawBytes,
          databases: facts.databases,
          coordinates: parsedHead.coordinates,
          gtidSet: parsedHead.gtidSet,
          server: { flavor, version: facts.identity.version },
          tool: { name: FLAVOR_TOOLS[flavor].dump, version: parsedHead.toolVersion },
        };
        await writeFile(path.join(partialDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o640 });
        // One rename publishes dump and manifest together; a crash before it leaves only a .partial folder.
        await rename(partialDir, finalDir);
        return { manifestPath, backupDir: finalDir, dumpPath: path.join(finalDir, DUMP_FILE), manifest };
      } catch (err) {
        await rm(partialDir, { recursive: true, force: true });
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC')
          throw new DrillError(DrillErrorTypes.DiskFull, `the disk holding ${backupsDir} is full: the dump of source ${source.name} could not be written and was not published; free space there or move RESTORE_DRILL_HOME`, { cause: err });
        throw err;
      }
    },

    /**
     * Re-reads a published artifact against its manifest. `depth`:
     * - 'full' (default): size, sha256, a complete gzip stream (its CRC) and the dump trailer.
     * - 'bytes': presence, size and sha256 only (~1 s/GB instead of a whole gunzip). Only for a
     *   logical dump that the parallel restore then loads: it checks the gzip stream and the
     *   trailer as it reads (activities/fast-restore.ts), before it runs the dump's last part.
     *   The 'client' restore path checks no trailer: never pair it with 'bytes'.
     * A physical artifact is always verified in full whatever the depth: its restore (tar,
     * mbstream) does not walk the archive the way verifyPhysicalArtifact does.
     */
    async verifyBackup(req: { manifestPath: string; depth?: VerifyDepth }): Promise<VerifiedBackup> {
      const text = await readFile(req.manifestPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new DrillError(DrillErrorTypes.BadConfig, `backup manifest ${req.manifestPath} cannot be read (${err.code}); give the path of a published manifest.json`);
      });
      const manifest = parseManifest(text, req.manifestPath);
      const dumpPath = path.join(path.dirname(req.manifestPath), manifest.file);
      const verified = (depth: VerifyDepth): VerifiedBackup => ({ manifestPath: req.manifestPath, backupDir: path.dirname(req.manifestPath), dumpPath, manifest, verified: depth });
      const st = await stat(dumpPath).catch(() => undefined);
      if (!st) throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `backup file ${dumpPath} listed in ${req.manifestPath} is missing`);
      if (st.size !== manifest.bytes)
        throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `backup file ${dumpPath} has ${st.size} bytes but its manifest says ${manifest.bytes}: it was truncated or overwritten`, { details: { actual: st.size, expected: manifest.bytes } });
      if (manifest.kind === 'physical') {
        await verifyPhysicalArtifact(dumpPath, manifest);
        return verified('full');
      }
      const depth = req.depth ?? 'full';
      const hash = createHash('sha256');
      let tail: Buffer = Buffer.alloc(0);
      let read = 0;
      const source = () => createReadStream(dumpPath, { highWaterMark: DUMP_STREAM_CHUNK_BYTES }).on('data', (c) => { hash.update(c as Buffer); read += (c as Buffer).length; });
      await withHeartbeat(
        () => ({ phase: 'verify', depth, read, of: manifest.bytes }),
        async () => {
          if (depth === 'bytes') {
            await pipeline(source(), new Writable({ write: (_c, _e, done) => done() }));
            return;
          }
          try {
            await pipeline(
              source(),
              createGunzip({ chunkSize: DUMP_STREAM_CHUNK_BYTES }),
              new Writable({
                write(chunk: Buffer, _e, done) {
                  tail = keepDumpTail(tail, chunk);
                  done();
                },
              }),
            );
          } catch (err) {
            throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `backup file ${dumpPath} is not a complete gzip stream (${(err as Error).message}): it was truncated or corrupted after publication`, { cause: err });
          }
        },
      );
      const sha256 = hash.digest('hex');
      if (sha256 !== manifest.sha256)
        throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `backup file ${dumpPath} has sha256 ${sha256} but its manifest says ${manifest.sha256}: its bytes changed after publication`, { details: { actual: sha256, expected: manifest.sha256 } });
      if (depth === 'full') checkDumpTrailer(tail.toString('utf8'));
      return verified(depth);
    },

    /**
     * The source's state at one consistent snapshot, with its exact binlog coordinates and
     * table checksums. Reads only: MariaDB exposes the snapshot's coordinates directly;
     * MySQL needs a brief global read lock (as mysqldump --single-transaction --source-data does).
     */
    async captureSourceCheckpoint(req: { source: SourceSpec; facts: SourceFacts; checksum?: ChecksumMethod }): Promise<SourceCheckpoint> {
      const creds = await sourceCredentials(req.source);
      const s = await openSession(endpointOf(req.source), creds);
      try {
        await s.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        let point: RecoveryPoint;
        let takenAt: string;
        if (req.facts.identity.flavor === 'mariadb') {
          await s.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
          const status = await s.query<{ Variable_name: string; Value: string }>("SHOW STATUS LIKE 'binlog_snapshot_%'");
          const get = (n: string) => status.find((r) => r.Variable_name.toLowerCase() === n)?.Value ?? '';
          const file = get('binlog_snapshot_file');
          const position = Number(get('binlog_snapshot_position'));
          const [g] = await s.query<{ gtid: string | null; now: string }>('SELECT BINLOG_GTID_POS(?, ?) AS gtid, UTC_TIMESTAMP(6) AS now', [file, position]);
          point = { coordinates: { file, position }, gtidSet: g.gtid ?? undefined };
          takenAt = g.now;
        } else {
          await s.query('FLUSH TABLES WITH READ LOCK');
          try {
            await s.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
            const rows = await s.query<{ File: string; Position: number; Executed_Gtid_Set: string }>('SHOW BINARY LOG STATUS').catch(() => s.query<{ File: string; Position: number; Executed_Gtid_Set: string }>('SHOW MASTER STATUS'));
            const [now] = await s.query<{ now: string }>('SELECT UTC_TIMESTAMP(6) AS now');
            point = { coordinates: { file: rows[0].File, position: Number(rows[0].Position) }, gtidSet: rows[0].Executed_Gtid_Set.replace(/\s+/g, '') };
            takenAt = now.now;
          } finally {
            await s.query('UNLOCK TABLES');
          }
        }
        const tables = await withHeartbeat(() => ({ phase: 'checkpoint' }), () => tableStates(s, req.facts.databases, { method: req.checksum }));
        await s.query('COMMIT');
        return { takenAt: new Date(takenAt.replace(' ', 'T') + 'Z').toISOString(), point, tables, serverVersion: req.facts.identity.version };
      } finally {
        await s.close();
      }
    },
  };
}
