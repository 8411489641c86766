/** The manifest published beside every backup artifact: what it is, where it starts, how to verify it. */
import { z } from 'zod';
import { DrillError, DrillErrorTypes } from '../errors';

export const MANIFEST_FILE = 'manifest.json';
export const DUMP_FILE = 'dump.sql.gz';

const coordinatesSchema = z.object({ file: z.string().min(1), position: z.number().int().min(4) });

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
  coordinates: coordinatesSchema,
  gtidSet: z.string().optional(),
  server: z.object({ flavor: z.enum(['mysql', 'mariadb']), version: z.string() }),
  tool: z.object({ name: z.string(), version: z.string().optional() }),
  /** Physical backups: how the datadir is packed (mariabackup's mbstream, or a tar of a cloned datadir). */
  archive: z.enum(['mbstream', 'tar']).optional(),
}).refine((m) => (m.kind === 'physical') === (m.archive !== undefined), { message: 'a physical backup names its archive format (mbstream or tar), a logical one none', path: ['archive'] });
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
