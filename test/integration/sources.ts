/** A live sample source per test file: its own container, socket folder and writer. */
import mysql from 'mysql2/promise';
import path from 'node:path';
import type { DockerodeRuntime } from '../../adapters/docker';
import { withSession } from '../../adapters/mysql';
import type { Flavor } from '../../domain/types';
import { ensureSampleSource } from '../../sample/source-container';
import type { SampleSource } from '../../sample/source-container';
import { UniversityWriter } from '../../sample/university-writer';

export interface LiveSource extends SampleSource {
  flavor: Flavor;
  pool: mysql.Pool;
  writer: UniversityWriter;
  /** Runs SQL on the source as its administrator (tests only; the engine only reads). */
  admin<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  destroy(): Promise<void>;
}

export async function startLiveSource(runtime: DockerodeRuntime, flavor: Flavor, home: string, name: string, opts: { physical?: boolean } = {}): Promise<LiveSource> {
  const source = await ensureSampleSource({ runtime, flavor, name, home: path.join(home, 'sources'), seed: { students: 200, courses: 30 }, ...(opts.physical ? { physical: true } : {}) });
  const pool = mysql.createPool({ socketPath: source.socketPath, user: 'root', connectionLimit: 3 });
  const writer = new UniversityWriter(pool, { intervalMs: 5, seed: 7 });
  return {
    ...source,
    flavor,
    pool,
    writer,
    admin: (sql, params) => withSession({ socket: source.socketPath }, { user: 'root' }, (s) => s.query(sql, params)),
    async destroy() {
      await writer.stop();
      await pool.end();
      await runtime.remove(source.containerName);
    },
  };
}

/**
 * The test's own ground truth, independent of the engine's checksums: every row of every
 * table, read through the driver (JSON parsed, so MySQL's DECIMAL-vs-DOUBLE JSON scalars
 * compare by value; BLOBs as Buffers, compared byte for byte).
 */
export async function groundTruth(query: <T>(sql: string) => Promise<T[]>, tables: readonly string[]): Promise<Record<string, unknown[]>> {
  const truth: Record<string, unknown[]> = {};
  for (const t of tables) truth[t] = await query(`SELECT * FROM university.\`${t}\` ORDER BY id`);
  return truth;
}
