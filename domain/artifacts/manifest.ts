/** The manifest published beside every backup artifact: what it is, where it starts, how to verify it. */
import { z } from 'zod';
import { DrillError, DrillErrorTypes } from '../errors';

export const MANIFEST_FILE = 'manifest.json';
export const DUMP_FILE = 'dump.sql.gz';

const coordinatesSchema = z.object({ file: z.string().min(1), position: z.number().int().min(4) });
const secretRefSchema = z.union([z.object({ file: z.string().min(1) }).strict(), z.object({ env: z.string().min(1) }).strict()]);

/**
 * A team's own backup, adopted where it is: the manifest lives in the engine's store, the
 * bytes stay in the team's folder or bucket and are only ever read. S3 credentials are references.
 */
export const backupOriginSchema = z.object({
  /** The location as configured: a folder, a pattern or s3://bucket/prefix/. */
  location: z.string().min(1),
  s3: z
    .object({ endpoint: z.string().optional(), region: z.string().optional(), forcePathStyle: z.boolean().optional(), accessKeyIdRef: secretRefSchema.optional(), secretAccessKeyRef: secretRefSchema.optional() })
    .strict()
    .optional(),
  /** The object's name relative to the location. */
  key: z.string().min(1),
  /** Where it is, for people: a path or s3://bucket/key. */
  where: z.string().min(1),
  /** What the object looked like when its door checks passed: a restore of a changed object is refused. */
  observed: z.object({ size: z.number().int().min(0), mtimeMs: z.number().optional(), etag: z.string().optional() }),
});
export type BackupOrigin = z.infer<typeof backupOriginSchema>;

const lsnSchema = z.string().regex(/^\d+$/, 'an LSN in decimal');

export const backupManifestSchema = z.object({
  format: z.literal(1),
  /** 'logical': a dump loaded through a client; 'physical': a datadir copy (mariabackup stream, MySQL clone as tar) mounted as the sandbox's datadir. */
  kind: z.enum(['logical', 'physical']),
  backupId: z.string().min(1),
  source: z.string().min(1),
  createdAt: z.string(),
  finishedAt: z.string(),
  file: z.string().min(1),
  bytes: z.number().int().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  uncompressedBytes: z.number().int().min(1),
  databases: z.array(z.string()),
  /** Where the backup's data stands in the source's binlogs; absent only for a team's backup taken without them. */
  coordinates: coordinatesSchema.optional(),
  /** A team's backup without coordinates: why it cannot be rolled forward (it is drilled as it was taken). */
  withoutCoordinates: z.string().optional(),
  gtidSet: z.string().optional(),
  server: z.object({ flavor: z.enum(['mysql', 'mariadb']), version: z.string() }),
  tool: z.object({ name: z.string(), version: z.string().optional() }),
  /** Physical backups: how the datadir is packed (mariabackup's mbstream, or a tar of a cloned datadir; a team's: also its directory). */
  archive: z.enum(['mbstream', 'tar', 'directory']).optional(),
  /** A team's physical backup: `--prepare` already ran (skipped at restore), and the folder of its archive holding the datadir. */
  prepared: z.boolean().optional(),
  archiveRoot: z.string().optional(),
  /** How `file` is compressed; absent: gzip (the engine's own dumps). */
  compression: z.enum(['gzip', 'zstd', 'xz', 'bzip2', 'none']).optional(),
  /** A team's dump of one database made without --databases (no CREATE DATABASE / USE): the database it restores into. */
  intoDatabase: z.string().min(1).optional(),
  /** A team's own backup: where its bytes are; absent: `file` beside this manifest. */
  origin: backupOriginSchema.optional(),
  /** A team's backup that is a directory of files (origin.key ends in '/'), in this tool's layout; absent: one file. */
  directory: z.enum(['mydumper']).optional(),
  /** The engine's mariabackup streams: its checkpoints file (backup type and LSN range), so an increment can be taken on it. */
  lsn: z.object({ backupType: z.string().min(1), from: lsnSchema, to: lsnSchema, last: lsnSchema.optional() }).strict().optional(),
  /**
   * An increment (mariabackup --incremental-basedir): the chain it is restored through, the full
   * backup first and this backup last, each a sibling folder of this one named by its backupId.
   */
  chain: z
    .object({ baseId: z.string().min(1), members: z.array(z.object({ backupId: z.string().min(1), fromLsn: lsnSchema, toLsn: lsnSchema }).strict()).min(2) })
    .strict()
    .optional(),
})
  .refine((m) => (m.kind === 'physical') === (m.archive !== undefined), { message: 'a physical backup names its archive format (mbstream or tar), a logical one none', path: ['archive'] })
  .refine((m) => m.directory === undefined || (m.origin !== undefined && m.origin.key.endsWith('/')), { message: "a directory backup is a team's, adopted where it is (its origin key ends in '/')", path: ['directory'] })
  .refine((m) => m.coordinates !== undefined || (m.origin !== undefined && m.withoutCoordinates !== undefined), { message: "only a team's backup may lack binlog coordinates, and then says why", path: ['coordinates'] })
  .refine((m) => m.chain === undefined || (m.archive === 'mbstream' && m.chain.members[0]!.backupId === m.chain.baseId && m.chain.members.at(-1)!.backupId === m.backupId), {
    message: 'an increment is an mbstream whose chain starts with its full backup (baseId) and ends with itself',
    path: ['chain'],
  });
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export function parseManifest(text: string, where: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `manifest ${where} is not valid JSON; the backup was never published completely: take a new one`, { cause: err });
  }
  const parsed = backupManifestSchema.safeParse(json);
  if (!parsed.success)
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `manifest ${where} is malformed (${parsed.error.issues.map((i) => i.path.join('.') + ': ' + i.message).join('; ')}); take a new backup`);
  return parsed.data;
}
