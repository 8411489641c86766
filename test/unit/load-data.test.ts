import { deferSecondaryIndexes, loadsIntoClusteredIndexOnly, referencedTables } from '../../domain/dump/deferred-indexes';
import { convertInsert } from '../../domain/dump/insert-convert';
import { scanInsert } from '../../domain/dump/insert-scan';
import type { ConvertedInsert } from '../../domain/dump/insert-syntax';
import { loadDataStatement } from '../../domain/dump/load-data-statement';
import type { LoadColumn } from '../../domain/dump/load-data-statement';

/** How the server reads a LOAD DATA stream (tab fields, LF rows, `\` escapes, `\N`): the test's reference reader. */
function readLoadData(data: Buffer): (Buffer | null)[][] {
  const rows: (Buffer | null)[][] = [];
  let row: (Buffer | null)[] = [];
  let field: number[] = [];
  let escapedNull = false;
  const unescape: Record<number, number> = { 0x30: 0, 0x62: 8, 0x6e: 10, 0x72: 13, 0x74: 9, 0x5a: 0x1a };
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b === 0x5c) {
      const n = data[++i];
      if (n === 0x4e && field.length === 0 && (data[i + 1] === 9 || data[i + 1] === 10)) escapedNull = true;
      else field.push(unescape[n] ?? n);
    } else if (b === 9 || b === 10) {
      row.push(escapedNull ? null : Buffer.from(field));
      field = [];
      escapedNull = false;
      if (b === 10) {
        rows.push(row);
        row = [];
      }
    } else field.push(b);
  }
  expect(field).toEqual([]);
  return rows;
}

/** mysql_real_escape_string, as mysqldump writes string literals. */
function sqlString(bytes: Buffer): Buffer {
  const out: number[] = [0x27];
  const esc: Record<number, number> = { 0: 0x30, 10: 0x6e, 13: 0x72, 0x5c: 0x5c, 0x27: 0x27, 0x22: 0x22, 0x1a: 0x5a };
  for (const b of bytes) {
    if (esc[b] !== undefined) out.push(0x5c, esc[b]);
    else out.push(b);
  }
  out.push(0x27);
  return Buffer.from(out);
}

function convert(sql: string | Buffer): ConvertedInsert {
  const result = convertInsert(Buffer.isBuffer(sql) ? sql : Buffer.from(sql, 'utf8'));
  if (!result) throw new Error(`not converted: ${sql.toString()}`);
  return result;
}

function fieldsOf(sql: string | Buffer): (string | null)[][] {
  return readLoadData(convert(sql).data).map((r) => r.map((f) => (f === null ? null : f.toString('utf8'))));
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** Statements neither convertInsert nor scanInsert takes: the INSERT runs as it is. */
const NOT_PLAIN_INSERTS: [string, string][] = [
    ['an INSERT IGNORE', "INSERT IGNORE INTO t VALUES (1);"],
    ['a REPLACE', 'REPLACE INTO t VALUES (1);'],
    ['an expression', 'INSERT INTO t VALUES (1+1);'],
    ['a function call', 'INSERT INTO t VALUES (NOW());'],
    ['another introducer', "INSERT INTO t VALUES (_latin1'x');"],
    ['a double-quoted string', 'INSERT INTO t VALUES ("x");'],
    ['DEFAULT', 'INSERT INTO t VALUES (DEFAULT);'],
    ['rows of different widths', 'INSERT INTO t VALUES (1,2),(3);'],
    ['a column list of another width', 'INSERT INTO t (a,b) VALUES (1);'],
    ['an unterminated string', "INSERT INTO t VALUES ('abc);"],
    ['a missing semicolon', 'INSERT INTO t VALUES (1)'],
    ['text after the statement', 'INSERT INTO t VALUES (1); DROP TABLE t;'],
    ['ON DUPLICATE KEY UPDATE', 'INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a=1;'],
    ['a backslash before a non-ASCII byte', "INSERT INTO t VALUES ('\\é');"],
    ['INSERT … SELECT', 'INSERT INTO t SELECT 1;'],
];

describe('convertInsert: INSERT → LOAD DATA rows', () => {
  test('a mysqldump statement becomes one line per row with tab-separated fields', () => {
    const c = convert("INSERT INTO `t` VALUES (1,'a',2.5),(2,'b',-3);");
    expect(c).toMatchObject({ table: 't', rows: 2, fields: 3, binaryFields: [] });
    expect(c.data.toString()).toBe('1\ta\t2.5\n2\tb\t-3\n');
  });

  test('NULL becomes \\N, the string NULL and the empty string stay text', () => {
    expect(fieldsOf("INSERT INTO `t` VALUES (NULL,'NULL','',null,'\\\\N');")).toEqual([[null, 'NULL', '', null, '\\N']]);
    expect(convert("INSERT INTO `t` VALUES (NULL,'');").data.toString()).toBe('\\N\t\n');
  });

  test('every SQL escape is unescaped and re-escaped for LOAD DATA', () => {
    const [[v]] = readLoadData(convert("INSERT INTO t VALUES ('\\0|\\'|\\\"|\\\\|\\n|\\r|\\t|\\Z|\\b|''|\\x');").data);
    expect([...v!]).toEqual([0, 0x7c, 0x27, 0x7c, 0x22, 0x7c, 0x5c, 0x7c, 10, 0x7c, 13, 0x7c, 9, 0x7c, 0x1a, 0x7c, 8, 0x7c, 0x27, 0x7c, 0x78]);
  });

  test('\\% and \\_ keep their backslash, as outside LIKE in MySQL', () => {
    expect(fieldsOf("INSERT INTO t VALUES ('50\\% a\\_b');")).toEqual([['50\\% a\\_b']]);
  });

  test('raw tabs, newlines and backslashes inside strings are escaped so they stay data', () => {
    const c = convert("INSERT INTO t VALUES ('a\tb\nc\\\\d');");
    expect(c.data.toString()).toBe('a\\tb\\nc\\\\d\n');
    expect(fieldsOf("INSERT INTO t VALUES ('a\tb\nc\\\\d');")).toEqual([['a\tb\nc\\d']]);
  });

  test('every byte value 0-255 survives as an escaped string literal', () => {
    const sql = Buffer.concat([Buffer.from('INSERT INTO `b` VALUES (1,'), sqlString(ALL_BYTES), Buffer.from(');')]);
    const [[id, bytes]] = readLoadData(convert(sql).data);
    expect(id!.toString()).toBe('1');
    expect(bytes!.equals(ALL_BYTES)).toBe(true);
  });

  test('every byte value 0-255 survives as a hex literal (--hex-blob), reported as binary', () => {
    const c = convert(`INSERT INTO \`b\` VALUES (1,0x${ALL_BYTES.toString('hex').toUpperCase()}),(2,X'${ALL_BYTES.toString('hex')}');`);
    expect(c.binaryFields).toEqual([1]);
    const rows = readLoadData(c.data);
    expect(rows[0][1]!.equals(ALL_BYTES)).toBe(true);
    expect(rows[1][1]!.equals(ALL_BYTES)).toBe(true);
  });

  test('_binary strings (mysqldump without --hex-blob) are raw bytes, reported as binary', () => {
    const sql = Buffer.concat([Buffer.from('INSERT INTO `b` VALUES (_binary '), sqlString(ALL_BYTES), Buffer.from(",_binary'x',_binary 0x4142);")]);
    const c = convert(sql);
    expect(c.binaryFields).toEqual([0, 1, 2]);
    const [[a, b, d]] = readLoadData(c.data);
    expect(a!.equals(ALL_BYTES)).toBe(true);
    expect(b!.toString()).toBe('x');
    expect(d!.toString()).toBe('AB');
  });

  test('an odd-length hex literal gets a leading zero nibble', () => {
    expect([...readLoadData(convert('INSERT INTO t VALUES (0xABC);').data)[0][0]!]).toEqual([0x0a, 0xbc]);
  });

  test("bit literals b'…' become their big-endian bytes", () => {
    const rows = readLoadData(convert("INSERT INTO t VALUES (b'1010101010',b'0',b'11111111',b'100000000');").data);
    expect(rows[0].map((f) => [...f!])).toEqual([[0x02, 0xaa], [0], [0xff], [1, 0]]);
  });

  test('numbers are copied as written: negative, decimals, exponents', () => {
    expect(fieldsOf('INSERT INTO t VALUES (-12345.678901,3.40282e38,-2.2250738585072014e-308,1e300,0.000000,-0,18446744073709551615,1E-5);')).toEqual([
      ['-12345.678901', '3.40282e38', '-2.2250738585072014e-308', '1e300', '0.000000', '-0', '18446744073709551615', '1E-5'],
    ]);
  });

  test('dates, JSON and 4-byte UTF-8 pass through as text', () => {
    expect(fieldsOf('INSERT INTO t VALUES (\'2024-02-03 04:05:06.123456\',\'{\\"a\\": [1, \\"x\\"]}\',\'emoji 😀 𝄞\');')).toEqual([['2024-02-03 04:05:06.123456', '{"a": [1, "x"]}', 'emoji 😀 𝄞']]);
  });

  test('latin1 text (the dump carries it as utf8) passes through as its utf8 bytes', () => {
    const [[v]] = readLoadData(convert("INSERT INTO t VALUES ('café ÿ');").data);
    expect(v!.equals(Buffer.from('café ÿ', 'utf8'))).toBe(true);
  });

  test('a column list is returned, backquotes removed and doubled backquotes undone', () => {
    const c = convert('INSERT INTO `we``ird` (`id`, `a b`, plain) VALUES (1,2,3);');
    expect(c.table).toBe('we`ird');
    expect(c.columns).toEqual(['id', 'a b', 'plain']);
  });

  test('a qualified table name keeps its database', () => {
    expect(convert('INSERT INTO `shop`.`t` VALUES (1);')).toMatchObject({ database: 'shop', table: 't' });
  });

  test('a statement split across lines (mariadb-dump, one row per line) converts', () => {
    const c = convert("INSERT INTO `t` VALUES\n(1,'a'),\n(2,'b'),\r\n(3,NULL);\n");
    expect(c.rows).toBe(3);
    expect(c.data.toString()).toBe('1\ta\n2\tb\n3\t\\N\n');
  });

  test('a very long row (a 5 MB string) converts without loss', () => {
    const long = 'x\\n'.repeat(1_700_000);
    const [[v]] = readLoadData(convert(`INSERT INTO t VALUES ('${long}');`).data);
    expect(v!.length).toBe(3_400_000);
    expect(v!.subarray(0, 4).toString()).toBe('x\nx\n');
  });

  test.each([
    ['a bad hex literal', "INSERT INTO t VALUES (X'ABC');"],
    ...NOT_PLAIN_INSERTS,
  ])('%s is not converted (the INSERT runs as it is)', (_, sql) => {
    expect(convertInsert(Buffer.from(sql))).toBeUndefined();
  });
});

/**
 * How the server reads the VALUES list as LOAD DATA rows (FIELDS TERMINATED BY ',' ENCLOSED BY
 * '\'' ESCAPED BY '\\' LINES STARTING BY '(' TERMINATED BY ')'): the test's reference reader.
 * Before a row, everything up to its '(' is skipped; a quoted field ends at a quote followed by
 * ',' or ')'; an unquoted NULL is NULL.
 */
function readValuesRows(data: Buffer): (Buffer | null)[][] {
  const rows: (Buffer | null)[][] = [];
  const unescape: Record<number, number> = { 0x30: 0, 0x62: 8, 0x6e: 10, 0x72: 13, 0x74: 9, 0x5a: 0x1a };
  let i = 0;
  for (;;) {
    while (i < data.length && data[i] !== 0x28) i++;
    if (i >= data.length) return rows;
    i++;
    const row: (Buffer | null)[] = [];
    for (;;) {
      const field: number[] = [];
      let quoted = false;
      if (data[i] === 0x27) {
        quoted = true;
        for (i++; ; i++) {
          const b = data[i];
          if (b === 0x5c) field.push(unescape[data[++i]] ?? data[i]);
          else if (b === 0x27 && (data[i + 1] === 0x2c || data[i + 1] === 0x29)) break;
          else field.push(b);
        }
        i++;
      } else while (data[i] !== 0x2c && data[i] !== 0x29) field.push(data[i++]);
      const text = Buffer.from(field);
      row.push(!quoted && text.toString() === 'NULL' ? null : text);
      if (data[i++] === 0x29) break;
    }
    rows.push(row);
  }
}

describe('scanInsert: the VALUES list as LOAD DATA rows, unchanged', () => {
  test('a mysqldump statement passes as its VALUES list, with its rows and fields counted', () => {
    const sql = "INSERT INTO `t` VALUES (1,'a',2.5,NULL),(2,'b\\'),(c',-3e-7,'NULL');\n";
    const scanned = scanInsert(Buffer.from(sql));
    expect(scanned).toMatchObject({ format: 'values', table: 't', rows: 2, fields: 4, binaryFields: [] });
    expect(scanned!.data.toString()).toBe("(1,'a',2.5,NULL),(2,'b\\'),(c',-3e-7,'NULL')");
    expect(readValuesRows(scanned!.data).map((r) => r.map((f) => (f === null ? null : f.toString())))).toEqual([
      ['1', 'a', '2.5', null],
      ['2', "b'),(c", '-3e-7', 'NULL'],
    ]);
  });

  test('mariadb-dump’s layout, a row per line, passes too: LOAD DATA skips the line breaks before each row', () => {
    const scanned = scanInsert(Buffer.from("INSERT INTO `t` VALUES\n(1,'a\\'b',1.5),\n(2,NULL,-0.0000002);\n"));
    expect(scanned).toMatchObject({ format: 'values', rows: 2, fields: 3 });
    expect(scanned!.data.toString()).toBe("(1,'a\\'b',1.5),\n(2,NULL,-0.0000002)");
    expect(readValuesRows(scanned!.data).map((r) => r.map((f) => (f === null ? null : f.toString())))).toEqual([
      ['1', "a'b", '1.5'],
      ['2', null, '-0.0000002'],
    ]);
  });

  test('a qualified table and a column list are read as convertInsert reads them', () => {
    expect(scanInsert(Buffer.from('INSERT INTO `d`.`t` (`a`, `b`) VALUES (1,2);'))).toMatchObject({ database: 'd', table: 't', columns: ['a', 'b'], rows: 1, fields: 2 });
  });

  test('random rows of every byte, escaped as mysqldump escapes them, read back the same as through the tab-separated conversion', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const tricky = Buffer.from("'\\(),\n\r\t\0\x1aN");
    for (let round = 0; round < 300; round++) {
      const fields = 1 + rand(6);
      const rows = Array.from({ length: 1 + rand(5) }, () =>
        Array.from({ length: fields }, () => {
          const kind = rand(5);
          if (kind === 0) return Buffer.from('NULL');
          if (kind === 1) return Buffer.from(['0', '-12', '3.25', '-0.5', '1e300', '2.5E-7', '18446744073709551615'][rand(7)]);
          const bytes = Buffer.from(Array.from({ length: rand(12) }, () => (rand(2) === 0 ? tricky[rand(tricky.length)] : rand(256))));
          return sqlString(bytes);
        }),
      );
      const statement = Buffer.concat([Buffer.from('INSERT INTO `t` VALUES '), Buffer.from(rows.map((r) => `(${r.map((f) => f.toString('latin1')).join(',')})`).join(rand(2) === 0 ? ',' : ',\n'), 'latin1'), Buffer.from(';\n')]);
      const scanned = scanInsert(statement);
      expect(scanned).toBeDefined();
      expect({ rows: scanned!.rows, fields: scanned!.fields }).toEqual({ rows: rows.length, fields });
      expect(readValuesRows(scanned!.data)).toEqual(readLoadData(convert(statement).data));
    }
  });

  test.each([
    ['a hex literal', 'INSERT INTO t VALUES (0x00FF);'],
    ['an X literal', "INSERT INTO t VALUES (X'00');"],
    ['a bit literal', "INSERT INTO t VALUES (b'101');"],
    ['a _binary string', "INSERT INTO t VALUES (_binary 'x');"],
    ['a space between values', 'INSERT INTO t VALUES (1, 2);'],
    ['a space inside a row', 'INSERT INTO t VALUES ( 1);'],
    ['a doubled quote', "INSERT INTO t VALUES ('it''s');"],
    ['\\N (NULL to LOAD DATA, N to SQL)', "INSERT INTO t VALUES ('\\N');"],
    ['\\% (SQL keeps the backslash)', "INSERT INTO t VALUES ('50\\%');"],
    ['\\_ (SQL keeps the backslash)', "INSERT INTO t VALUES ('a\\_b');"],
    ['a lower-case null', 'INSERT INTO t VALUES (null);'],
    ['a number run into a word', 'INSERT INTO t VALUES (1abc);'],
    ['an exponent without digits', 'INSERT INTO t VALUES (1e);'],
    ...NOT_PLAIN_INSERTS,
  ])('%s is not passed unchanged', (_, sql) => {
    expect(scanInsert(Buffer.from(sql))).toBeUndefined();
  });
});

const col = (name: string, charset: string | null = null, dataType = 'int', generated = false): LoadColumn => ({ name, charset, dataType, generated });

describe('loadDataStatement', () => {
  test('utf8 and binary columns load as they are, with CHARACTER SET binary', () => {
    const plan = loadDataStatement(convert("INSERT INTO `t` VALUES (1,'a',0x00);"), [col('id'), col('u', 'utf8mb4', 'varchar'), col('b', 'binary', 'blob')]);
    expect(plan).toEqual({
      sql: "LOAD DATA LOCAL INFILE 'restore-drill-rows' INTO TABLE `t` CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`id`, `u`, `b`)",
    });
  });

  test('latin1 and JSON columns are converted from the dump’s utf8mb4 on assignment', () => {
    const plan = loadDataStatement(convert("INSERT INTO `t` VALUES (1,'é','{}');"), [col('id'), col('l', 'latin1', 'varchar'), col('j', null, 'json')]);
    expect('sql' in plan && plan.sql).toContain('(`id`, @v1, @v2) SET `l` = CONVERT(@v1 USING utf8mb4), `j` = CONVERT(@v2 USING utf8mb4)');
  });

  test('generated columns dumped without a column list (mariadb-dump) are read into a throwaway variable', () => {
    const plan = loadDataStatement(convert('INSERT INTO `t` VALUES (1,2,3);'), [col('id'), col('g', null, 'int', true), col('x')]);
    expect('sql' in plan && plan.sql).toContain('(`id`, @restore_drill_ignored, `x`)');
  });

  test('the INSERT’s column list is honoured', () => {
    const plan = loadDataStatement(convert('INSERT INTO `t` (`x`, `id`) VALUES (1,2);'), [col('id'), col('g', null, 'int', true), col('x')]);
    expect('sql' in plan && plan.sql).toContain('(`x`, `id`)');
  });

  test('a binary literal bound for a latin1 column falls back to the INSERT', () => {
    expect(loadDataStatement(convert('INSERT INTO `t` VALUES (1,0xE9);'), [col('id'), col('l', 'latin1', 'varchar')])).toEqual({ fallback: 'a binary literal is bound for the latin1 column l' });
  });

  test('a row width that does not match the table falls back', () => {
    expect(loadDataStatement(convert('INSERT INTO `t` VALUES (1);'), [col('id'), col('x')])).toHaveProperty('fallback');
  });

  test('a VALUES list passed unchanged is read with its own delimiters, the same columns and conversions', () => {
    const scanned = scanInsert(Buffer.from("INSERT INTO `t` VALUES (1,'é','{}');"))!;
    expect(loadDataStatement(scanned, [col('id'), col('l', 'latin1', 'varchar'), col('j', null, 'json')])).toEqual({
      sql:
        "LOAD DATA LOCAL INFILE 'restore-drill-rows' INTO TABLE `t` CHARACTER SET binary FIELDS TERMINATED BY ',' ENCLOSED BY '\\'' ESCAPED BY '\\\\' LINES STARTING BY '(' TERMINATED BY ')' " +
        '(`id`, @v1, @v2) SET `l` = CONVERT(@v1 USING utf8mb4), `j` = CONVERT(@v2 USING utf8mb4)',
    });
  });

  test('a column list naming an unknown column falls back', () => {
    expect(loadDataStatement(convert('INSERT INTO `t` (`nope`) VALUES (1);'), [col('id')])).toHaveProperty('fallback');
  });
});

describe('deferSecondaryIndexes', () => {
  const ORDERS = [
    'CREATE TABLE `orders` (',
    '  `id` bigint NOT NULL,',
    '  `customer_id` int NOT NULL,',
    '  `created` datetime NOT NULL,',
    '  `code` varchar(20) DEFAULT NULL,',
    '  `body` text,',
    '  PRIMARY KEY (`id`),',
    '  UNIQUE KEY `code` (`code`),',
    '  KEY `customer_id` (`customer_id`),',
    '  KEY `by ``created``` (`created`,`customer_id`),',
    '  FULLTEXT KEY `body` (`body`)',
    ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;',
  ].join('\n');

  test('plain keys move to one ALTER; primary, unique and fulltext keys stay in the CREATE', () => {
    const d = deferSecondaryIndexes(ORDERS)!;
    expect(d.table).toBe('orders');
    expect(d.create).toBe(
      [
        'CREATE TABLE `orders` (',
        '  `id` bigint NOT NULL,',
        '  `customer_id` int NOT NULL,',
        '  `created` datetime NOT NULL,',
        '  `code` varchar(20) DEFAULT NULL,',
        '  `body` text,',
        '  PRIMARY KEY (`id`),',
        '  UNIQUE KEY `code` (`code`),',
        '  FULLTEXT KEY `body` (`body`)',
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;',
      ].join('\n'),
    );
    expect(d.addIndexes).toBe('ALTER TABLE `orders` ADD KEY `customer_id` (`customer_id`), ADD KEY `by ``created``` (`created`,`customer_id`)');
  });

  test("MariaDB's ignored and commented keys go to the ALTER as they are", () => {
    const d = deferSecondaryIndexes("CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `k` int,\n  `j` int,\n  PRIMARY KEY (`id`),\n  KEY `k` (`k`) IGNORED,\n  KEY `j` (`j`) COMMENT 'x'\n) ENGINE=InnoDB;")!;
    expect(d.addIndexes).toBe("ALTER TABLE `t` ADD KEY `k` (`k`) IGNORED, ADD KEY `j` (`j`) COMMENT 'x'");
  });

  test('the last definition loses its comma when the keys after it are deferred', () => {
    const d = deferSecondaryIndexes('CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `k` int,\n  PRIMARY KEY (`id`),\n  KEY `k` (`k`)\n) ENGINE=InnoDB;')!;
    expect(d.create).toBe('CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `k` int,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;');
  });

  test.each([
    ['a table with a foreign key', 'CREATE TABLE `c` (\n  `id` int,\n  `p` int,\n  KEY `p` (`p`),\n  CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `parent` (`id`)\n) ENGINE=InnoDB;'],
    ['a MyISAM table', 'CREATE TABLE `m` (\n  `id` int,\n  KEY `id` (`id`)\n) ENGINE=MyISAM;'],
    ['a partitioned table', 'CREATE TABLE `p` (\n  `id` int,\n  KEY `id` (`id`)\n) ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (`id`) PARTITIONS 2 */;'],
    ['a system-versioned table (MariaDB)', 'CREATE TABLE `v` (\n  `id` int,\n  `k` int,\n  PRIMARY KEY (`id`),\n  KEY `k` (`k`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 WITH SYSTEM VERSIONING;'],
    ['a table without plain keys', 'CREATE TABLE `u` (\n  `id` int,\n  UNIQUE KEY `id` (`id`)\n) ENGINE=InnoDB;'],
    ['a statement in another layout', 'CREATE TABLE `x` (`id` int, KEY (`id`)) ENGINE=InnoDB;'],
  ])('%s keeps its keys', (_, sql) => {
    expect(deferSecondaryIndexes(sql)).toBeUndefined();
  });

  test('rows load into the clustered index alone once the plain keys are deferred, or when there are none', () => {
    const plain = 'CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `k` int,\n  PRIMARY KEY (`id`),\n  KEY `k` (`k`)\n) ENGINE=InnoDB;';
    expect(loadsIntoClusteredIndexOnly(plain)).toBe(false);
    expect(loadsIntoClusteredIndexOnly(deferSecondaryIndexes(plain)!.create)).toBe(true);
    expect(loadsIntoClusteredIndexOnly('CREATE TABLE `n` (\n  `id` int NOT NULL,\n  `v` text\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;')).toBe(true);
    // Unique and fulltext keys stay in the CREATE: the rows go into them too.
    expect(loadsIntoClusteredIndexOnly(deferSecondaryIndexes(ORDERS)!.create)).toBe(false);
  });

  test.each([
    ['a unique key', 'CREATE TABLE `u` (\n  `id` int,\n  UNIQUE KEY `id` (`id`)\n) ENGINE=InnoDB;'],
    ['a foreign key', 'CREATE TABLE `c` (\n  `id` int,\n  `p` int,\n  PRIMARY KEY (`id`),\n  CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `parent` (`id`)\n) ENGINE=InnoDB;'],
    ['a MyISAM table', 'CREATE TABLE `m` (\n  `id` int,\n  PRIMARY KEY (`id`)\n) ENGINE=MyISAM;'],
    ['a partitioned table', 'CREATE TABLE `p` (\n  `id` int,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (`id`) PARTITIONS 2 */;'],
    ['a statement in another layout', 'CREATE TABLE `x` (`id` int PRIMARY KEY) ENGINE=InnoDB;'],
  ])('rows of a table with %s do not load into the clustered index alone', (_, sql) => {
    expect(loadsIntoClusteredIndexOnly(sql)).toBe(false);
  });

  test('referencedTables names the parents of a CREATE TABLE’s foreign keys', () => {
    expect(referencedTables('CONSTRAINT `a` FOREIGN KEY (`p`) REFERENCES `parent` (`id`),\n CONSTRAINT `b` FOREIGN KEY (`q`) REFERENCES `other`.`t``x` (`id`)')).toEqual([{ table: 'parent' }, { database: 'other', table: 't`x' }]);
  });
});
