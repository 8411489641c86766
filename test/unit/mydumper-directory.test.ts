import { DumpSplitter } from '../../domain/dump/splitter';
import { checkDirectoryUnchanged, checkMydumperNotPartial, directoryDigestText } from '../../domain/backups/directory';
import { MydumperDataFeed, isNamesBinary, misplacedCharsetSetting, mydumperStatements, parseMydumperFileName, planMydumperLoad } from '../../domain/backups/mydumper';
import { errorType } from './expect-error';

describe('mydumper file names', () => {
  test.each([
    ['metadata', { kind: 'metadata' }],
    ['shop-schema-create.sql', { kind: 'database', database: 'shop', compression: 'none' }],
    ['shop-schema-post.sql.gz', { kind: 'post', database: 'shop', compression: 'gzip' }],
    ['shop.orders-schema.sql', { kind: 'table-schema', database: 'shop', table: 'orders' }],
    ['shop.orders-schema-view.sql.zst', { kind: 'view', database: 'shop', table: 'orders', compression: 'zstd' }],
    ['shop.orders-schema-triggers.sql', { kind: 'triggers', database: 'shop', table: 'orders' }],
    ['shop.orders.sql.gz', { kind: 'data', database: 'shop', table: 'orders', compression: 'gzip' }],
    ['shop.order_items.00003.sql', { kind: 'data', database: 'shop', table: 'order_items', part: 3 }],
    ['dir/shop.orders.sql', { kind: 'data', path: 'dir/shop.orders.sql', table: 'orders' }],
  ])('%s', (name, expected) => {
    expect(parseMydumperFileName(name)).toMatchObject(expected);
  });

  test('files of no mydumper layout are not mydumper files', () => {
    expect(parseMydumperFileName('README')).toBeUndefined();
    expect(parseMydumperFileName('checksums.txt')).toBeUndefined();
  });
});

describe('the order a mydumper directory loads in', () => {
  const files = [
    { path: 'metadata', size: 70 },
    { path: 'shop.orders-schema-triggers.sql', size: 300 },
    { path: 'shop.v-schema-view.sql', size: 200 },
    { path: 'shop.v-schema.sql', size: 100 },
    { path: 'shop.orders.00001.sql', size: 10 },
    { path: 'shop.orders.00000.sql', size: 5000 },
    { path: 'shop.items.sql', size: 900 },
    { path: 'shop.orders-schema.sql', size: 400 },
    { path: 'shop-schema-post.sql', size: 500 },
    { path: 'shop-schema-create.sql', size: 60 },
    { path: 'mysql.user.sql', size: 100 },
    { path: 'mysql-schema-create.sql', size: 60 },
    { path: 'notes.txt', size: 3 },
  ];
  const plan = planMydumperLoad(files);

  test('databases, then table schemas with the placeholder tables of views', () => {
    expect(plan.databases.map((f) => f.path)).toEqual(['shop-schema-create.sql']);
    expect(plan.schemas.map((f) => f.path)).toEqual(['shop.orders-schema.sql', 'shop.v-schema.sql']);
  });

  test('rows largest file first, so the long ones start early', () => {
    expect(plan.data.map((f) => f.path)).toEqual(['shop.orders.00000.sql', 'shop.items.sql', 'shop.orders.00001.sql']);
  });

  test('routines before views (a view may call a function), triggers last', () => {
    expect(plan.post.map((f) => f.path)).toEqual(['shop-schema-post.sql']);
    expect(plan.views.map((f) => f.path)).toEqual(['shop.v-schema-view.sql']);
    expect(plan.triggers.map((f) => f.path)).toEqual(['shop.orders-schema-triggers.sql']);
  });

  test('system schemas are left out and named; unknown files are left alone', () => {
    expect(plan.skippedSchemas).toEqual(['mysql']);
    expect(plan.ignored).toEqual(['notes.txt']);
  });
});

describe('a data file read as a dump table section', () => {
  const file = Buffer.from(
    '/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n/*!40103 SET TIME_ZONE=\'+00:00\' */;\n' +
      'INSERT INTO `t` VALUES\n(1,"a"),\n(2,"b;");\nINSERT INTO `t` VALUES\n(3,"c");\n',
  );

  function chunksOf(cuts: number[], chunkBytes = 1 << 20): { table?: string; sql: string }[] {
    const feed = new MydumperDataFeed('shop', 't');
    const splitter = new DumpSplitter(chunkBytes);
    const pieces = [];
    let at = 0;
    for (const cut of [...cuts, file.length]) {
      pieces.push(...splitter.pushBytes(feed.push(file.subarray(at, cut))));
      at = cut;
    }
    pieces.push(...splitter.pushBytes(feed.finish()), ...splitter.finishBytes(), ...splitter.finish());
    return pieces.filter((p) => p.kind === 'chunk').map((p) => ({ table: p.table, sql: p.sql.toString() }));
  }

  test('every chunk carries the file\'s session settings and its database, whatever the reads\' cuts', () => {
    for (const cuts of [[], [5], [40, 41, 120], [130]]) {
      const chunks = chunksOf(cuts);
      expect(chunks).toHaveLength(1);
      expect(chunks[0]!.table).toBe('shop.t');
      expect(chunks[0]!.sql).toMatch(/^\/\*!40101 SET NAMES binary\*\/;\n.*USE `shop`;\n/s);
      expect(chunks[0]!.sql).toContain('(2,"b;");\nINSERT INTO `t` VALUES\n(3,"c");');
    }
  });

  test('a small chunk size cuts between statements, each chunk with the settings again', () => {
    const chunks = chunksOf([], 10);
    expect(chunks).toHaveLength(2);
    expect(chunks[1]!.sql).toMatch(/^\/\*!40101 SET NAMES binary\*\/;\n.*USE `shop`;\nINSERT INTO `t` VALUES\n\(3,"c"\);/s);
  });

  test('a file without rows gives no chunk', () => {
    const feed = new MydumperDataFeed('shop', 't');
    const splitter = new DumpSplitter();
    const pieces = [...splitter.pushBytes(feed.push(Buffer.from('/*!40101 SET NAMES binary*/;\n'))), ...splitter.pushBytes(feed.finish()), ...splitter.finishBytes(), ...splitter.finish()];
    expect(pieces.filter((p) => p.kind === 'chunk')).toEqual([]);
  });
});

describe('a directory backup at the door', () => {
  const listing = [
    { key: 'd/metadata', size: 70, modifiedMs: 1000, etag: 'a' },
    { key: 'd/shop.t.sql', size: 500, modifiedMs: 900, etag: 'b' },
  ];

  test('the same listing after the read passes', () => {
    expect(errorType(() => checkDirectoryUnchanged('d/', listing, [...listing].reverse()))).toBeUndefined();
  });

  test.each([
    ['a file grew', [listing[0]!, { ...listing[1]!, size: 600 }]],
    ['a file was rewritten', [listing[0]!, { ...listing[1]!, etag: 'c' }]],
    ['a file appeared', [...listing, { key: 'd/shop.u.sql', size: 1, modifiedMs: 1, etag: 'x' }]],
    ['a file disappeared', [listing[0]!]],
  ])('%s: ArtifactInFlight', (_what, after) => {
    expect(errorType(() => checkDirectoryUnchanged('d/', listing, after))).toBe('ArtifactInFlight');
  });

  test('metadata.partial is a dump still running, until nothing changed for an hour: then it died part-way', () => {
    const paths = ['metadata.partial', 'shop.t.sql'];
    const now = 10 * 3600_000;
    expect(errorType(() => checkMydumperNotPartial('d/', paths, now - 60_000, now))).toBeUndefined();
    expect(errorType(() => checkMydumperNotPartial('d/', paths, now - 2 * 3600_000, now))).toBe('DumpTruncated');
    expect(errorType(() => checkMydumperNotPartial('d/', ['metadata', ...paths], now - 2 * 3600_000, now))).toBeUndefined();
  });

  test('the digest text is one sorted line per file: the order of reading does not matter', () => {
    const a = directoryDigestText([{ path: 'b.sql', sha256: '2' }, { path: 'a.sql', sha256: '1' }]);
    expect(a).toBe('a.sql 1\nb.sql 2\n');
    expect(directoryDigestText([{ path: 'a.sql', sha256: '1' }, { path: 'b.sql', sha256: '2' }])).toBe(a);
  });
});

describe('statements of a mydumper schema-post file', () => {
  test('a stored program body whose inner line ends are "; " stays one statement', () => {
    const text = 'DROP PROCEDURE IF EXISTS `p`;\nCREATE PROCEDURE `p`()\nBEGIN\n  SELECT 1; \n  SELECT 2; \nEND;\n\nSET character_set_client = @PREV_CHARACTER_SET_CLIENT;\n';
    expect(mydumperStatements(text)).toEqual(['DROP PROCEDURE IF EXISTS `p`;', 'CREATE PROCEDURE `p`()\nBEGIN\n  SELECT 1; \n  SELECT 2; \nEND;', 'SET character_set_client = @PREV_CHARACTER_SET_CLIENT;']);
  });

  test.each([
    ['SET character_set_client = Credits of the courses a student completed;', 'character_set_client = "Credits of the courses a student completed"'],
    ['SET character_set_results = ;', 'character_set_results = ""'],
    ['SET collation_connection = utf8mb4;', 'collation_connection = "utf8mb4"'],
  ])('mydumper 0.10 on MySQL 9 (a COMMENT where a character set belongs): %s is skipped', (statement, named) => {
    expect(misplacedCharsetSetting(statement)).toBe(named);
  });

  test.each([
    'SET character_set_client = utf8mb4;',
    'SET character_set_client = @PREV_CHARACTER_SET_CLIENT;',
    'SET collation_connection = utf8mb4_general_ci;',
    'SET collation_connection = binary;',
    'SET NAMES binary;',
  ])('a real setting runs: %s', (statement) => {
    expect(misplacedCharsetSetting(statement)).toBeUndefined();
  });
});

test('a schema file\'s SET NAMES binary is recognised (its UTF-8 text runs under utf8mb4), other settings are not', () => {
  expect(isNamesBinary('/*!40101 SET NAMES binary*/;')).toBe(true);
  expect(isNamesBinary('SET NAMES binary;')).toBe(true);
  expect(isNamesBinary('/*!40101 SET NAMES utf8mb4*/;')).toBe(false);
  expect(isNamesBinary('/*!40014 SET FOREIGN_KEY_CHECKS=0*/;')).toBe(false);
});
