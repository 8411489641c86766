/**
 * The LOAD DATA restore path end to end: a source holding awkward values (every byte value in a
 * BLOB, latin1 text, 4-byte UTF-8, NULL vs '' vs 'NULL', escapes, JSON, DECIMAL, FLOAT/DOUBLE
 * edges, BIT, generated columns, foreign keys) is dumped by the engine and restored on the
 * fast path; the kept sandbox is compared with the source row by row and by the drill's
 * checksums (indexes included), and its status counters prove the rows came through LOAD DATA,
 * not INSERT, and which tables had their secondary keys built after their rows.
 * Real Temporal dev server, Docker, MariaDB 10.11 and MySQL 9.7 containers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RestoreOutcome } from '../../activities/types';
import { withSession } from '../../adapters/mysql';
import { drillTimeline } from '../../bench/history';
import type { SqlSession } from '../../adapters/mysql';
import { awaitDrill, startDrill } from '../../client/drills';
import type { DrillReport } from '../../domain/report/report';
import { progressQuery, releaseSignal } from '../../workflows';
import type { DrillProgress } from '../../workflows';
import { BOTH_FLAVORS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex');
const LATIN1_BYTES = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1)).toString('hex');

const AWKWARD_SQL = [
  'DROP DATABASE IF EXISTS awkward',
  'CREATE DATABASE awkward CHARACTER SET utf8mb4',
  `CREATE TABLE awkward.vals (
     id INT PRIMARY KEY,
     bin BLOB, vbin VARBINARY(300),
     l1 VARCHAR(300) CHARACTER SET latin1, l1text TEXT CHARACTER SET latin1,
     u VARCHAR(300) CHARACTER SET utf8mb4, ascii_col VARCHAR(20) CHARACTER SET ascii,
     j JSON, d DECIMAL(65,30), f FLOAT, dbl DOUBLE, bits BIT(10), big BIGINT UNSIGNED, neg BIGINT,
     dt DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME, yr YEAR, en ENUM('a','é','x y') CHARACTER SET latin1, st SET('p','q'),
     gv INT AS (id * 2) VIRTUAL, gs VARCHAR(310) AS (CONCAT('g:', u)) STORED,
     KEY (u), KEY (l1), KEY (gs)
   )`,
  `INSERT INTO awkward.vals (id, bin, vbin, l1, l1text, u, ascii_col, j, d, f, dbl, bits, big, neg, dt, ts, tm, yr, en, st) VALUES
     (1, UNHEX('${ALL_BYTES}'), UNHEX('${ALL_BYTES}'), CONVERT(UNHEX('${LATIN1_BYTES}') USING latin1), CONVERT(UNHEX('${LATIN1_BYTES}') USING latin1),
      'emoji 😀 𝄞 tab\there nl\nhere cr\rhere back\\\\slash quote'' dq" nul\\0end ctrl-z\\Z', 'plain',
      '{"k": "tab\\\\t \\\\"q\\\\" é 😀", "n": [1.5, null, true, 1e300], "big": 18446744073709551615}',
      '-12345678901234567890123456789012345.123456789012345678901234567890', 3.40282e38, 1.7976931348623157e308, b'1010101010',
      18446744073709551615, -9223372036854775808, '2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.499999', '-838:59:59', 2155, 'é', 'p,q'),
     (2, '', '', '', '', '', '', NULL, 0, -1.17549e-38, 4.9e-324, b'0', 0, -1, '1000-01-01 00:00:00', '1970-01-01 00:00:01', '00:00:00', 1901, 'a', ''),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
     (4, 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', '"NULL"', 1e-30, 1.401298e-45, -2.2250738585072014e-308, b'1111111111', 1, 0, '9999-12-31 23:59:59', NULL, '838:59:59', 2000, 'x y', 'q'),
     (5, UNHEX('5C4E'), UNHEX('00'), '\\\\N', '\\\\N\\t\\\\t', '\\\\N', '\\\\N', '[]', -0.000000000000000000000000000001, 0.1, 0.1, b'1', 42, 42, '2000-01-01 00:00:00.5', '2000-01-01 00:00:00', '-00:00:01', 1999, NULL, NULL),
     (6, UNHEX('09'), UNHEX('0A'), 'tab\\there', 'a\\nb', 'a\\tb\\nc\\\\d', 'x\\ty', '{"a": "\\\\u0000"}', 99999999999999999999999999999999999.999999999999999999999999999999, -3.4e38, 1e-300, b'0000000001', 18446744073709551614, 9223372036854775807, '2000-01-01', '2000-01-01', '12:34:56', 2024, 'é', 'p')`,
  'CREATE TABLE awkward.parent (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, KEY (name))',
  'CREATE TABLE awkward.child (id INT PRIMARY KEY, parent_id INT NOT NULL, note VARCHAR(40), KEY (note), CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES awkward.parent (id) ON DELETE CASCADE)',
  "INSERT INTO awkward.parent VALUES (1, 'one'), (2, 'two'), (3, 'three')",
  "INSERT INTO awkward.child VALUES (10, 1, 'a'), (11, 1, NULL), (12, 3, 'c')",
  // Text and numbers only: the dump's INSERT goes to the server as it is (scanInsert), its
  // quotes, backslashes, parentheses and commas read by LOAD DATA as the INSERT would read them.
  `CREATE TABLE awkward.texts (id INT PRIMARY KEY, u VARCHAR(200) CHARACTER SET utf8mb4, l1 VARCHAR(200) CHARACTER SET latin1, j JSON, d DECIMAL(20,6), dbl DOUBLE, KEY (u))`,
  `INSERT INTO awkward.texts VALUES
     (1, 'it''s \\\\'' quoted', 'é', '{"a": "),(\\\\"x"}', -1.5, 1e-300),
     (2, '),(''),(',  '(', '[1, "NULL"]', 0, -2.5e300),
     (3, 'NULL', 'NULL', 'null', NULL, NULL),
     (4, '', '', '""', 99999999999999.999999, 0.1),
     (5, NULL, NULL, NULL, NULL, NULL),
     (6, 'back\\\\slash at end \\\\', 'tab\\there nl\\nhere cr\\rhere', '{}', -0.000001, -0.25),
     (7, 'nul\\0 ctrl-z\\Z dq" 😀 𝄞', 'a,b)c(d', '{"k": "\\\\\\\\N"}', 1, 1.7976931348623157e308),
     (8, '\\\\N', '\\\\%', '"\\\\\\\\_"', 2, 3),
     (9, '(x)', ''')', '"'')"', 3, 4)`,
  // Enough rows for several INSERT statements per table (the dump closes one near 1 MB).
  'CREATE TABLE awkward.many (id INT PRIMARY KEY, k INT NOT NULL, v VARCHAR(200) NOT NULL, b VARBINARY(64), KEY (k))',
];

const TABLES = ['vals', 'parent', 'child', 'many', 'texts'];

/** Every row of every awkward table, with string and binary columns as hex bytes too: what a byte-exact restore must reproduce. */
async function rowsOf(s: SqlSession): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) out[t] = await s.query(`SELECT * FROM awkward.\`${t}\` ORDER BY id`);
  out.valsBytes = await s.query(
    'SELECT id, HEX(bin), HEX(vbin), HEX(l1), HEX(l1text), HEX(u), HEX(ascii_col), HEX(CAST(j AS CHAR)), HEX(bits), HEX(en), HEX(gs), CAST(d AS CHAR), CAST(f AS CHAR), CAST(dbl AS CHAR), CAST(dt AS CHAR), CAST(ts AS CHAR), UNIX_TIMESTAMP(ts) FROM awkward.vals ORDER BY id',
  );
  out.textsBytes = await s.query('SELECT id, HEX(u), HEX(l1), HEX(CAST(j AS CHAR)), CAST(d AS CHAR), CAST(dbl AS CHAR) FROM awkward.texts ORDER BY id');
  out.indexes = await s.query(
    "SELECT TABLE_NAME AS t, INDEX_NAME AS i, SEQ_IN_INDEX AS seq, COLUMN_NAME AS c, NON_UNIQUE AS nonUnique FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'awkward' ORDER BY 1, 2, 3",
  );
  return out;
}

describe.each(BOTH_FLAVORS)('LOAD DATA restore on $name', (server) => {
  let h: Harness;
  let source: LiveSource;

  beforeAll(async () => {
    h = await startHarness(`loaddata-${server.id}`);
    source = await startLiveSource(h.runtime, server, h.home, `it-loaddata-${server.id}-${process.pid}`);
    await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
      for (const sql of AWKWARD_SQL) await s.query(sql);
      for (let base = 0; base < 30_000; base += 5_000) {
        const rows = Array.from({ length: 5_000 }, (_, i) => base + i + 1).map((n) => `(${n}, ${n % 13}, CONCAT('row ', ${n}, ' \\t ', REPEAT('x', ${n % 150})), UNHEX(SHA2('${n}', 256)))`);
        await s.query(`INSERT INTO awkward.many VALUES ${rows.join(',')}`);
      }
    });
  });

  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  test('awkward values restore byte-identical through LOAD DATA: row by row, by checksum, and no INSERT ran in the sandbox', async () => {
    const expected = await withSession({ socket: source.socketPath }, { user: 'root' }, rowsOf);
    const handle = await startDrill({
      client: h.client,
      taskQueue: h.taskQueue,
      workflowId: h.uniqueId('loaddata'),
      request: { source: { ...source.spec, databases: ['awkward'] }, restoreMethod: 'parallel', keepSandbox: true, sandboxTtlSeconds: 600 },
    });
    let progress: DrillProgress | undefined;
    for (let i = 0; i < 960 && progress?.status !== 'kept' && progress?.status !== 'done'; i++) {
      await sleep(250);
      progress = await handle.query(progressQuery).catch(() => undefined);
    }
    if (progress?.status !== 'kept') {
      const { failure } = await awaitDrill(handle);
      throw new Error(`the drill did not keep its sandbox: ${failure?.type}: ${failure?.message}`);
    }
    const seen = await withSession({ socket: progress.sandbox!.socketPath }, { user: 'root' }, async (s) => {
      const status = await s.query<{ Variable_name: string; Value: string }>("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_load', 'Com_insert', 'Com_alter_table')");
      const counters = Object.fromEntries(status.map((r) => [r.Variable_name.toLowerCase(), Number(r.Value)]));
      const fks = await s.query("SELECT CONSTRAINT_NAME AS name FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'awkward'");
      return { rows: await rowsOf(s), counters, fks };
    });
    await handle.signal(releaseSignal);
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(await h.leftovers(handle.workflowId)).toEqual([]);

    expect(seen.rows).toEqual(expected);
    expect(seen.fks).toEqual([{ name: 'fk_parent' }]);
    // Every table's rows came through LOAD DATA (at least one per table, several for `many`); no INSERT fell back.
    expect(seen.counters.com_load).toBeGreaterThanOrEqual(TABLES.length);
    expect(seen.counters.com_insert).toBe(0);
    // The plain keys of `vals`, `many` and `texts` were added after their rows, one ALTER each
    // (`child` has a foreign key, `parent` is referenced by one: both keep theirs).
    expect(seen.counters.com_alter_table).toBe(3);
    // `parent`, `child` and `texts` hold no hex, bit or _binary literal: their VALUES lists went to
    // the server as dumped; `vals` and `many` (BLOBs, dumped as hex) were rewritten as tab-separated rows.
    const restored = drillTimeline(await handle.fetchHistory())
      .spans.filter((sp) => sp.activity === 'restoreLogicalDump' && sp.outcome === 'completed')
      .pop()!.result as RestoreOutcome;
    expect(restored.unchangedRows).toBe(3 + 3 + 9);
    expect(restored.rows).toBe(6 + 3 + 3 + 30_000 + 9);
    const r = report as DrillReport;
    expect(r.outcome).toBe('passed');
    for (const t of TABLES) expect(r.checks).toContainEqual(expect.objectContaining({ kind: 'checksum', target: `awkward.${t}`, passed: true }));
  });
});
