import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SessionDispatcher, parallelSessions } from '../../domain/dump/session-dispatcher';
import { DumpSplitter, isSessionSetting, statementBuffers, statementsOf } from '../../domain/dump/splitter';
import type { DumpPiece } from '../../domain/dump/splitter';

/** The shape of a mariadb-dump / mysqldump file, trimmed to what the splitter looks at. */
const DUMP = `/*M!999999\\- enable the sandbox mode */
-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'uuid:1-5';
--
-- Current Database: \`shop\`
--
CREATE DATABASE /*!32312 IF NOT EXISTS*/ \`shop\`;
USE \`shop\`;
--
-- Table structure for table \`a\`
--
DROP TABLE IF EXISTS \`a\`;
CREATE TABLE \`a\` (id INT PRIMARY KEY);
--
-- Dumping data for table \`a\`
--
LOCK TABLES \`a\` WRITE;
/*!40000 ALTER TABLE \`a\` DISABLE KEYS */;
INSERT INTO \`a\` VALUES (1),(2);
INSERT INTO \`a\` VALUES (3),(4);
INSERT INTO \`a\` VALUES (5),(6);
/*!40000 ALTER TABLE \`a\` ENABLE KEYS */;
UNLOCK TABLES;
DELIMITER ;;
/*!50003 CREATE*/ /*!50003 TRIGGER a_ins BEFORE INSERT ON a FOR EACH ROW SET NEW.id = NEW.id */;;
DELIMITER ;
--
-- Table structure for table \`b\`
--
CREATE TABLE \`b\` (id INT PRIMARY KEY);
LOCK TABLES \`b\` WRITE;
INSERT INTO \`b\` VALUES (7);
UNLOCK TABLES;
--
-- Dumping routines for database 'shop'
--
CREATE PROCEDURE p() SELECT 1;
-- SET GLOBAL gtid_slave_pos='0-1-7';
-- Dump completed on 2026-01-01
`;

/** The dump's lines without their newlines (a last line without one included), as bytes. */
function linesOf(input: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = input.indexOf(10); nl !== -1; nl = input.indexOf(10, start)) {
    lines.push(input.subarray(start, nl));
    start = nl + 1;
  }
  if (start < input.length) lines.push(input.subarray(start));
  return lines;
}

/** The reference: the dump pushed line by line. */
function splitByLines(text: string | Buffer, chunkBytes = 1 << 20): DumpPiece[] {
  const s = new DumpSplitter(chunkBytes);
  return [...linesOf(Buffer.from(text)).flatMap((line) => s.push(line)), ...s.finish()];
}

/** As the restore reads it: all the bytes at once (the cuts are tested below). */
function split(text: string | Buffer, chunkBytes = 1 << 20): DumpPiece[] {
  const s = new DumpSplitter(chunkBytes);
  return [...s.pushBytes(Buffer.from(text)), ...s.finishBytes(), ...s.finish()];
}

const text = (p: DumpPiece) => p.sql.toString('utf8');

describe('splitting a dump for a parallel load', () => {
  test('pieces come out as the schema of a table, then its rows, then the next table, with the post part last', () => {
    expect(split(DUMP).map((p) => `${p.kind}${p.table ? ` ${p.table}` : ''}`)).toEqual(['ddl', 'chunk shop.a', 'ddl', 'chunk shop.b', 'post']);
  });

  test('every row of every table lands in exactly one chunk, in dump order', () => {
    const rows = split(DUMP, 40)
      .filter((p) => p.kind === 'chunk')
      .flatMap((p) => text(p).split('\n').filter((l) => l.startsWith('INSERT')));
    expect(rows).toEqual(['INSERT INTO `a` VALUES (1),(2);', 'INSERT INTO `a` VALUES (3),(4);', 'INSERT INTO `a` VALUES (5),(6);', 'INSERT INTO `b` VALUES (7);']);
  });

  test('a table larger than the chunk size is cut into several chunks of that table', () => {
    expect(split(DUMP, 40).filter((p) => p.table === 'shop.a').length).toBeGreaterThan(1);
  });

  test('each chunk carries the dump session settings and selects its database, but never the global GTID setting', () => {
    const chunk = text(split(DUMP).find((p) => p.kind === 'chunk')!);
    expect(chunk).toContain('FOREIGN_KEY_CHECKS=0');
    expect(chunk).toContain("SET TIME_ZONE='+00:00'");
    expect(chunk).toContain('USE `shop`;');
    expect(chunk).not.toContain('GTID_PURGED');
    expect(chunk.startsWith('/*M!999999\\- enable the sandbox mode */\n')).toBe(true);
  });

  test('LOCK TABLES and DISABLE KEYS are left out of chunks: sessions load one table at once', () => {
    const chunks = split(DUMP).filter((p) => p.kind === 'chunk').map(text).join('\n');
    expect(chunks).not.toMatch(/LOCK TABLES|DISABLE KEYS/);
  });

  test('the global GTID setting runs once, in the first schema piece', () => {
    const ddl = split(DUMP).filter((p) => p.kind === 'ddl');
    expect(text(ddl[0])).toContain('GTID_PURGED');
    expect(ddl.slice(1).some((p) => text(p).includes('GTID_PURGED'))).toBe(false);
  });

  test('triggers go to the post part, after all rows, as the dump creates them after its table\'s rows', () => {
    const pieces = split(DUMP);
    const post = text(pieces[pieces.length - 1]);
    expect(post).toContain('TRIGGER a_ins');
    expect(pieces.slice(0, -1).some((p) => text(p).includes('TRIGGER'))).toBe(false);
    expect(post).toContain('CREATE PROCEDURE p()');
    expect(post).toContain('-- Dump completed');
  });

  test('bytes that are not UTF-8 pass through unchanged', () => {
    const raw = Buffer.concat([Buffer.from('USE `x`;\nLOCK TABLES `t` WRITE;\nINSERT INTO `t` VALUES (\''), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from("');\nUNLOCK TABLES;\n")]);
    const pieces = split(raw);
    expect(pieces.find((p) => p.kind === 'chunk')!.sql.includes(Buffer.from([0xff, 0xfe, 0x80]))).toBe(true);
  });
});

describe('session settings', () => {
  test('versioned SET comments are session settings, global ones are not', () => {
    expect(isSessionSetting(Buffer.from('/*!40101 SET NAMES utf8mb4 */;'))).toBe(true);
    expect(isSessionSetting(Buffer.from('/*!80000 SET @@GLOBAL.x=1 */;'))).toBe(false);
  });

  test("MariaDB's versioned comments (/*M!…*/) are session settings too: the trailer of a mariadb-dump 11.x restores note_verbosity", () => {
    expect(isSessionSetting(Buffer.from('/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;'))).toBe(true);
  });

  test('at least two loading sessions, at most four', () => {
    expect([1, 2, 8].map(parallelSessions)).toEqual([2, 2, 4]);
  });
});

describe('real dump heads and tails (test/fixtures/dumps)', () => {
  const fixture = (name: string) => readFileSync(path.join(__dirname, '..', 'fixtures', 'dumps', name), 'utf8');

  test.each(['mysql-9.7', 'mariadb-10.11', 'mariadb-11.8'])('a %s dump keeps its trailer, and the session state the trailer restores, in the post piece', (flavor) => {
    const pieces = split(`${fixture(`${flavor}-head.sql`)}\n${fixture(`${flavor}-tail.sql`)}`);
    const post = text(pieces[pieces.length - 1]);
    expect(pieces[pieces.length - 1].kind).toBe('post');
    expect(post).toContain('-- Dump completed');
    if (flavor === 'mysql-9.7') expect(post.indexOf('SET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN;')).toBeLessThan(post.indexOf('SET @@SESSION.SQL_LOG_BIN = @MYSQLDUMP_TEMP_LOG_BIN;'));
    // mariadb-dump 11.x saves note_verbosity in a MariaDB-only versioned comment (/*M!100616 … */).
    if (flavor === 'mariadb-11.8') expect(post.indexOf('SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY')).toBeGreaterThan(-1);
    if (flavor === 'mariadb-11.8') expect(post.indexOf('SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY')).toBeLessThan(post.indexOf('SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY'));
  });
});

describe('statements of a piece', () => {
  test('a statement spanning lines ends at the line ending with a semicolon; comment lines between statements are dropped', () => {
    const sql = Buffer.from("--\n-- Table structure\n--\nCREATE TABLE `a` (\n  id INT PRIMARY KEY\n);\n/*!40101 SET NAMES utf8mb4 */;\nINSERT INTO `a` VALUES (1),(2);\n");
    expect(statementsOf(sql)).toEqual(['CREATE TABLE `a` (\n  id INT PRIMARY KEY\n);', '/*!40101 SET NAMES utf8mb4 */;', 'INSERT INTO `a` VALUES (1),(2);']);
  });

  test('every piece but the post part splits into statements that each end with a semicolon', () => {
    const statements = split(DUMP).filter((p) => p.kind !== 'post').flatMap((p) => statementsOf(p.sql));
    expect(statements.length).toBeGreaterThan(5);
    expect(statements.every((s) => s.trimEnd().endsWith(';'))).toBe(true);
  });
});

describe('one row per line (MariaDB 10.11 dumps)', () => {
  const rowsPerLine = 'USE `shop`;\nLOCK TABLES `a` WRITE;\nINSERT INTO `a` VALUES\n(1,\'x;\'),\n(2,\'y\');\nINSERT INTO `a` VALUES\n(3,\'z\');\nUNLOCK TABLES;\n';

  test('a chunk never closes inside a statement whose rows span lines', () => {
    const chunks = split(rowsPerLine, 10).filter((p) => p.kind === 'chunk');
    expect(chunks.flatMap((c) => statementsOf(c.sql)).filter((st) => st.startsWith('INSERT'))).toEqual(["INSERT INTO `a` VALUES\n(1,'x;'),\n(2,'y');", "INSERT INTO `a` VALUES\n(3,'z');"]);
    expect(chunks.length).toBe(2);
  });
});

describe('statementBuffers', () => {
  test('cuts a chunk into statements as byte views, comments and blank lines between them dropped, bytes untouched', () => {
    const chunk = Buffer.concat([Buffer.from("/*!40101 SET NAMES utf8mb4 */;\n-- comment\n\nUSE `shop`;\nINSERT INTO `t` VALUES\n(1,'"), Buffer.from([0xff, 0xfe]), Buffer.from("'),\n(2,'b');\r\nINSERT INTO `t` VALUES (3,'c');\n")]);
    const statements = statementBuffers(chunk);
    expect(statements.map((s) => s.toString('latin1'))).toEqual([
      '/*!40101 SET NAMES utf8mb4 */;',
      'USE `shop`;',
      "INSERT INTO `t` VALUES\n(1,'\xff\xfe'),\n(2,'b');\r",
      "INSERT INTO `t` VALUES (3,'c');",
    ]);
  });

  test('an unterminated last statement is still returned', () => {
    expect(statementBuffers(Buffer.from('SELECT 1;\nINSERT INTO t VALUES (1)')).map(String)).toEqual(['SELECT 1;', 'INSERT INTO t VALUES (1)']);
  });
});

describe('SessionDispatcher: which waiting job a free session takes', () => {
  /** Queues jobs in order; returns the order in which they got a session and a way to finish each. */
  function harness(sessions: number) {
    const dispatcher = new SessionDispatcher(sessions);
    const started: string[] = [];
    const queue = (job: string, opts: { first?: boolean; shared?: boolean } = {}) => void dispatcher.acquire(job.split('#')[0], opts).then(() => started.push(job));
    const finish = async (job: string) => {
      dispatcher.release(job.split('#')[0]);
      await new Promise((r) => setImmediate(r));
    };
    return { dispatcher, started, queue, finish, settle: () => new Promise((r) => setImmediate(r)) };
  }

  test('a free session takes a table no session is loading before joining one', async () => {
    const h = harness(2);
    for (const job of ['orders#1', 'orders#2', 'orders#3', 'orders#4', 'wide#1', 'wide#2']) h.queue(job);
    await h.settle();
    expect(h.started).toEqual(['orders#1', 'orders#2']);
    // orders is still being loaded by the other session: the free one skips orders#3 for wide.
    await h.finish('orders#1');
    expect(h.started.at(-1)).toBe('wide#1');
    // wide is being loaded now: the next free session goes back to orders.
    await h.finish('orders#2');
    expect(h.started.at(-1)).toBe('orders#3');
    // Each session keeps to its table.
    await h.finish('wide#1');
    expect(h.started.at(-1)).toBe('wide#2');
    await h.finish('orders#3');
    expect(h.started.at(-1)).toBe('orders#4');
  });

  test("a table's key build, acquired first, goes before the chunks that waited longer", async () => {
    const h = harness(2);
    const queueFirst = (job: string) => h.queue(job, { first: true });
    for (const job of ['customers#1', 'orders#1', 'orders#2', 'skewed#1', 'wide#1']) h.queue(job);
    await h.settle();
    expect(h.started).toEqual(['customers#1', 'orders#1']);
    // customers' rows are in: its keys are built next, by the session that loaded them, beside orders.
    queueFirst('customers#keys');
    await h.finish('customers#1');
    expect(h.started.at(-1)).toBe('customers#keys');
    // Two builds wait: in the order they came, both before the chunks.
    queueFirst('a#keys');
    queueFirst('b#keys');
    await h.finish('orders#1');
    expect(h.started.at(-1)).toBe('a#keys');
    await h.finish('customers#keys');
    expect(h.started.at(-1)).toBe('b#keys');
    await h.finish('a#keys');
    expect(h.started.at(-1)).toBe('orders#2');
  });

  test('shared chunks (rows into the clustered index alone) go oldest first: sessions finish a table together, so its key build starts early', async () => {
    const h = harness(2);
    const queueShared = (job: string) => h.queue(job, { shared: true });
    for (const job of ['orders#1', 'orders#2', 'orders#3', 'wide#1', 'wide#2']) queueShared(job);
    await h.settle();
    expect(h.started).toEqual(['orders#1', 'orders#2']);
    // orders is being loaded by the other session; its next chunk still goes before wide's.
    await h.finish('orders#1');
    expect(h.started.at(-1)).toBe('orders#3');
    await h.finish('orders#2');
    expect(h.started.at(-1)).toBe('wide#1');
    await h.finish('orders#3');
    expect(h.started.at(-1)).toBe('wide#2');
    // orders' rows are in: its keys go first, beside wide's rows on the other session.
    h.queue('orders#keys', { first: true });
    await h.finish('wide#1');
    expect(h.started.at(-1)).toBe('orders#keys');
    // A chunk that is not shared waits while its table is loaded: a younger shared one goes first.
    h.queue('kept#1');
    h.queue('kept#2');
    queueShared('wide#3');
    await h.finish('wide#2');
    expect(h.started.at(-1)).toBe('kept#1');
    await h.finish('orders#keys');
    expect(h.started.at(-1)).toBe('wide#3');
    // Only kept's is left: it joins its table.
    await h.finish('wide#3');
    expect(h.started.at(-1)).toBe('kept#2');
  });

  test('when every waiting job is of a table being loaded, a free session joins the oldest', async () => {
    const h = harness(2);
    for (const job of ['orders#1', 'orders#2', 'orders#3']) h.queue(job);
    await h.settle();
    expect(h.started).toEqual(['orders#1', 'orders#2']);
    expect(h.dispatcher.pending).toBe(1);
  });

  test('never more jobs at once than sessions, and every job gets one', async () => {
    const h = harness(3);
    const jobs = Array.from({ length: 20 }, (_, i) => `t${i % 4}#${i}`);
    jobs.forEach((job) => h.queue(job));
    await h.settle();
    expect(h.started.length).toBe(3);
    let done = 0;
    while (done < h.started.length) {
      await h.finish(h.started[done++]);
      expect(h.started.length - done).toBeLessThanOrEqual(3);
    }
    expect([...h.started].sort()).toEqual([...jobs].sort());
  });
});

describe('a whole mariadb-dump 11.8 file (rows wrapped in SET AUTOCOMMIT=0 … COMMIT)', () => {
  const dump = readFileSync(path.join(__dirname, '..', 'fixtures', 'dumps', 'mariadb-11.8-shop.sql'));

  test('the autocommit wrapper is left out of every piece: no session restores an AUTOCOMMIT it never saved', () => {
    const pieces = split(dump);
    // The dump's second `-- Current Database:` (before the final views) makes a schema piece of its USE.
    expect(pieces.map((p) => `${p.kind}${p.table ? ` ${p.table}` : ''}`)).toEqual(['ddl', 'chunk shop.customers', 'ddl', 'chunk shop.orders', 'ddl', 'post']);
    for (const p of pieces) expect(text(p)).not.toMatch(/AUTOCOMMIT|^COMMIT;/m);
  });

  test('the rows, the trigger, the final view, the GTID tail and the trailer are all still there', () => {
    const pieces = split(dump);
    expect(text(pieces[1]!)).toContain("(1,'Zoë 😀'),");
    expect(text(pieces[3]!)).toContain('(2,2,10.50,NULL);');
    const post = text(pieces[5]!);
    for (const s of ['TRIGGER orders_bi', 'VIEW `big_orders` AS select', "-- SET GLOBAL gtid_slave_pos='1-1-4,0-1-9';", '-- Dump completed on']) expect(post).toContain(s);
  });
});

describe('pushBytes: the dump as it comes, cut anywhere', () => {
  const fixture = (name: string) => readFileSync(path.join(__dirname, '..', 'fixtures', 'dumps', name), 'utf8');
  const rows = (table: string, n: number, eol = '\n') =>
    `LOCK TABLES \`${table}\` WRITE;${eol}/*!40000 ALTER TABLE \`${table}\` DISABLE KEYS */;${eol}` +
    Array.from({ length: n }, (_, i) => `INSERT INTO \`${table}\` VALUES${eol}(${i},'a;\\n b'),${eol}(${i + 1},'c');${eol}`).join('') +
    `/*!40000 ALTER TABLE \`${table}\` ENABLE KEYS */;${eol}UNLOCK TABLES;${eol}`;
  const GENERATED = `${DUMP.slice(0, DUMP.indexOf('LOCK TABLES'))}${rows('a', 40)}${rows('b', 25, '\r\n')}-- Dump completed on 2026-01-01\nSELECT 'no newline at the end';`;

  function splitBytes(input: Buffer, cuts: number[], chunkBytes: number): DumpPiece[] {
    const s = new DumpSplitter(chunkBytes);
    const out: DumpPiece[] = [];
    let at = 0;
    for (const cut of [...cuts, input.length]) {
      out.push(...s.pushBytes(input.subarray(at, cut)));
      at = cut;
    }
    return [...out, ...s.finishBytes(), ...s.finish()];
  }

  const shape = (pieces: DumpPiece[]) => pieces.map((p) => ({ kind: p.kind, table: p.table, sql: p.sql.toString('latin1') }));

  test.each([
    ['the test dump', DUMP],
    ['rows over many lines, CRLF rows, no newline at the end', GENERATED],
    ['a MySQL 9.7 head and tail', `${fixture('mysql-9.7-head.sql')}\n${fixture('mysql-9.7-tail.sql')}`],
    ['a MariaDB 10.11 head and tail', `${fixture('mariadb-10.11-head.sql')}\n${fixture('mariadb-10.11-tail.sql')}`],
    ['a whole MariaDB 11.8 dump', fixture('mariadb-11.8-shop.sql')],
  ])('%s: the same pieces as line by line, wherever the bytes are cut', (_name, dump) => {
    const input = Buffer.from(dump);
    // A small deterministic generator: the cuts differ per run of the loop, not per test run.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const chunkBytes of [64, 300, 1 << 20]) {
      const expected = shape(splitByLines(dump, chunkBytes));
      expect(shape(splitBytes(input, [], chunkBytes))).toEqual(expected);
      for (let round = 0; round < 20; round++) {
        const cuts = Array.from({ length: 1 + Math.floor(next() * 12) }, () => Math.floor(next() * input.length)).sort((a, b) => a - b);
        expect(shape(splitBytes(input, cuts, chunkBytes))).toEqual(expected);
      }
    }
    // Byte by byte as well: a cut inside "INSERT " or between ";" and its newline.
    expect(shape(splitBytes(input, Array.from({ length: input.length }, (_, i) => i), 300))).toEqual(shape(splitByLines(dump, 300)));
  });
});
