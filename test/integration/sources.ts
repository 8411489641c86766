/** A live sample source per test file: its own container, socket folder and writer. */
import mysql from 'mysql2/promise';
import path from 'node:path';
import type { DockerodeRuntime } from '../../adapters/docker';
import { withSession } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { ensureSampleSource } from '../../sample/source-container';
import type { SampleSource, SampleSourceOptions } from '../../sample/source-container';
import { UniversityWriter } from '../../sample/university-writer';
import type { TestServer } from './servers';

export interface LiveSource extends SampleSource {
  flavor: TestServer['flavor'];
  /** The server (and image) this source runs. */
  server: TestServer;
  pool: mysql.Pool;
  writer: UniversityWriter;
  /** Runs SQL on the source as its administrator (tests only; the engine only reads). */
  admin<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  destroy(): Promise<void>;
}

/** A sample source of `server`'s flavor running `server`'s image (the one this run names). */
export async function startLiveSource(runtime: DockerodeRuntime, server: TestServer, home: string, name: string, opts: Pick<SampleSourceOptions, 'physical' | 'restartPolicy'> = {}): Promise<LiveSource> {
  const { flavor, image } = server;
  const source = await ensureSampleSource({ runtime, flavor, image, name, home: path.join(home, 'sources'), seed: { students: 200, courses: 30 }, ...opts });
  const pool = mysql.createPool({ socketPath: source.socketPath, user: 'root', connectionLimit: 3 });
  const writer = new UniversityWriter(pool, { intervalMs: 5, seed: 7 });
  return {
    ...source,
    flavor,
    server,
    pool,
    writer,
    admin: (sql, params) => withSession({ socket: source.socketPath }, { user: 'root' }, (s) => s.query(sql, params)),
    async destroy() {
      // Each step runs even when one before it threw: an open pool or writer timer would keep jest alive.
      try {
        await writer.stop();
      } finally {
        try {
          await pool.end();
        } finally {
          await runtime.remove(source.containerName);
        }
      }
    },
  };
}

/** About 5 MB of hex text (2.5 MB compressed) per 50 batches in its own database, so dump, restore and replay last long enough to be hit. */
export async function addBulkPages(source: LiveSource, batches = 50): Promise<void> {
  await source.admin('CREATE DATABASE IF NOT EXISTS bulk');
  await source.admin('CREATE TABLE IF NOT EXISTS bulk.pages (id INT PRIMARY KEY, body MEDIUMTEXT NOT NULL)');
  const body = `CONCAT(${['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => `SHA2(CONCAT(n, '${k}'), 512)`).join(', ')})`;
  const hundred = Array.from({ length: 100 }, (_, k) => `SELECT ${k} AS seq`).join(' UNION ALL ');
  for (let i = 0; i < batches; i++) await source.admin(`INSERT INTO bulk.pages SELECT n, ${body} FROM (SELECT ${i * 100} + seq AS n FROM (${hundred}) s) t`);
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

/** The GTID of the transaction the session just committed (MySQL: only while no other writer runs). */
export async function lastGtid(flavor: TestServer['flavor'], s: SqlSession): Promise<string> {
  if (flavor === 'mariadb') return String((await s.query<{ g: string }>('SELECT @@last_gtid AS g'))[0].g);
  const [row] = await s.query<{ g: string; u: string }>('SELECT @@GLOBAL.gtid_executed AS g, @@server_uuid AS u');
  const mine = row.g.replace(/\s/g, '').split(',').find((e) => e.startsWith(row.u))!;
  const last = mine.split(':').pop()!.split('-').pop()!;
  return `${row.u}:${last}`;
}
