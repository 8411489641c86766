/**
 * Where a restore reads a dump's bytes: the engine's own dump beside its manifest, or a team's
 * backup where the team keeps it (a folder or a bucket), streamed, never copied whole first.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { openObjectStore } from '../../adapters/object-store';
import type { BackupOrigin } from '../../domain/artifacts/manifest';
import { parseBackupLocation } from '../../domain/artifacts/locations';
import type { Compression } from '../../domain/backups/format';
import { DUMP_STREAM_CHUNK_BYTES } from '../../domain/dump/format';
import { DrillError, DrillErrorTypes } from '../../domain/errors';

export interface DumpInput {
  /** A path or s3://bucket/key, for messages. */
  name: string;
  compression: Compression;
  /** A team's dump may hold the server's own `mysql` schema (`--all-databases`): never loaded over the sandbox's. */
  skipSystemSchemas?: boolean;
  /** A one-database dump without CREATE DATABASE / USE: the database its tables go into. */
  intoDatabase?: string;
  /** Its size as stored (compressed), when known: the base of a restore's progress. */
  bytes?: number;
  /** The raw (compressed) bytes, start to end. */
  open(): Promise<Readable>;
  close(): void;
}

export async function openDumpInput(dumpFile: string, from: { compression?: Compression; origin?: BackupOrigin; intoDatabase?: string } = {}): Promise<DumpInput> {
  const compression = from.compression ?? 'gzip';
  const origin = from.origin;
  if (!origin) {
    const bytes = await stat(dumpFile).then((st) => st.size, () => undefined);
    return { name: dumpFile, compression, bytes, open: async () => createReadStream(dumpFile, { highWaterMark: DUMP_STREAM_CHUNK_BYTES }), close: () => undefined };
  }
  const store = await openObjectStore(parseBackupLocation(origin.location, origin.s3 ?? {}));
  return {
    name: origin.where,
    compression,
    skipSystemSchemas: true,
    bytes: origin.observed.size,
    ...(from.intoDatabase ? { intoDatabase: from.intoDatabase } : {}),
    async open() {
      const now = await store.head(origin.key);
      const was = origin.observed;
      if (!now || now.size !== was.size || (was.etag !== undefined && now.etag !== was.etag))
        throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `${origin.where} changed since its door checks (${was.size} bytes then, ${now ? `${now.size} bytes now` : 'gone now'}): the team's job rewrote or removed it; drill it again`, { details: { where: origin.where } });
      return store.openRead(origin.key);
    },
    close: () => store.close(),
  };
}
