import {
  checkTableResult,
  columnBytesExpression,
  compareTableStates,
  groupColumns,
  sameServerVersion,
  serverChecksumObstacle,
  serverChecksumValue,
  tableChecksumSql,
  type TableState,
} from '../../domain/checks/checksums';
import {
  AssertionSpecSchema,
  assertionErrorResult,
  assertionResult,
  evaluateAssertion,
} from '../../domain/checks/assertions';
import { COLUMNS_SQL, columnsSql, quoteIdentifier } from '../../domain/sql';
import { errorType } from './expect-error';


describe('quoteIdentifier', () => {
  test('wraps in backticks and doubles embedded backticks', () => {
    expect(quoteIdentifier('a`b')).toBe('`a``b`');
    expect(quoteIdentifier('order')).toBe('`order`');
  });
});

describe('columnBytesExpression', () => {
  test('takes text columns as their stored bytes', () => {
    expect(columnBytesExpression({ name: 'title', dataType: 'varchar' })).toBe('CAST(`title` AS BINARY)');
    expect(columnBytesExpression({ name: 'e', dataType: 'ENUM' })).toBe('CAST(`e` AS BINARY)');
  });

  test('takes binary and spatial columns as they are', () => {
    expect(columnBytesExpression({ name: 'b', dataType: 'longblob' })).toBe('`b`');
    expect(columnBytesExpression({ name: 'g', dataType: 'point' })).toBe('`g`');
  });

  test('takes TIMESTAMP as epoch seconds so the session time zone does not matter', () => {
    expect(columnBytesExpression({ name: 'ts', dataType: 'timestamp' })).toBe('UNIX_TIMESTAMP(`ts`)');
  });

  test('takes BIT as its integer value', () => {
    expect(columnBytesExpression({ name: 'flags', dataType: 'bit' })).toBe('CAST(`flags` AS UNSIGNED)');
  });

  test('takes numbers and dates as utf8mb4 text', () => {
    for (const t of ['int', 'decimal', 'double', 'float', 'datetime', 'year']) {
      expect(columnBytesExpression({ name: 'x', dataType: t })).toBe('CAST(`x` AS CHAR CHARACTER SET utf8mb4)');
    }
  });

  test('takes MySQL JSON as its text re-parsed, the form a dump carries', () => {
    expect(columnBytesExpression({ name: 'j', dataType: 'json' })).toBe(
      'CAST(CAST(CAST(`j` AS CHAR CHARACTER SET utf8mb4) AS JSON) AS CHAR CHARACTER SET utf8mb4)',
    );
  });
});

describe('tableChecksumSql', () => {
  const sql = tableChecksumSql('shop', 'order`s', [
    { name: 'id', dataType: 'int' },
    { name: 'note', dataType: 'text' },
  ]);

  test('returns row_count and checksum from one SELECT over the quoted table', () => {
    expect(sql).toMatch(/^SELECT COUNT\(\*\) AS row_count, CONCAT\(.*\) AS checksum FROM \(SELECT .* AS rd_h FROM `shop`\.`order``s`\) AS rd_rows$/);
  });

  test('marks NULL with N and digests every column in order', () => {
    expect(sql).toContain(
      "SHA2(CONCAT_WS(',', IFNULL(SHA2(CAST(`id` AS CHAR CHARACTER SET utf8mb4), 256), 'N'), IFNULL(SHA2(CAST(`note` AS BINARY), 256), 'N')), 256)",
    );
  });

  test('sums both 64-bit halves of the row digest as unsigned integers', () => {
    expect(sql).toContain('COALESCE(SUM(CAST(CONV(SUBSTRING(rd_h, 1, 16), 16, 10) AS UNSIGNED)), 0)');
    expect(sql).toContain('COALESCE(SUM(CAST(CONV(SUBSTRING(rd_h, 17, 16), 16, 10) AS UNSIGNED)), 0)');
  });

  test('has no ORDER BY: the result does not depend on row order', () => {
    expect(sql).not.toMatch(/ORDER BY/i);
  });

  test('rejects a table without columns as BadConfig', () => {
    expect(errorType(() => tableChecksumSql('d', 't', []))).toBe('BadConfig');
  });
});

describe('COLUMNS_SQL', () => {
  test('lists base tables only, for a schema list parameter, columns in ordinal order', () => {
    expect(COLUMNS_SQL).toContain("TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')");
    expect(COLUMNS_SQL).toContain('TABLE_SCHEMA IN (?)');
    expect(COLUMNS_SQL).toMatch(/ORDER BY c\.TABLE_SCHEMA, c\.TABLE_NAME, c\.ORDINAL_POSITION$/);
  });

  test('narrows to one table with a second parameter', () => {
    expect(columnsSql({ oneTable: true })).toContain('TABLE_SCHEMA IN (?) AND c.TABLE_NAME = ? ');
  });
});

describe('groupColumns', () => {
  test('groups rows by table and keeps column order', () => {
    expect(
      groupColumns([
        { db: 'a', table_name: 't', column_name: 'id', data_type: 'int' },
        { db: 'a', table_name: 't', column_name: 'v', data_type: 'text' },
        { db: 'b', table_name: 't', column_name: 'id', data_type: 'bigint' },
      ]),
    ).toEqual([
      { db: 'a', table: 't', columns: [{ name: 'id', dataType: 'int' }, { name: 'v', dataType: 'text' }] },
      { db: 'b', table: 't', columns: [{ name: 'id', dataType: 'bigint' }] },
    ]);
  });

  test('leaves out the ROW START / ROW END columns of MariaDB system-versioned tables', () => {
    expect(
      groupColumns([
        { db: 'a', table_name: 't', column_name: 'id', data_type: 'int', generation: '' },
        { db: 'a', table_name: 't', column_name: 'row_start', data_type: 'timestamp', generation: 'ROW START' },
        { db: 'a', table_name: 't', column_name: 'row_end', data_type: 'timestamp', generation: 'ROW END' },
      ]),
    ).toEqual([{ db: 'a', table: 't', columns: [{ name: 'id', dataType: 'int' }] }]);
  });
});

describe('compareTableStates', () => {
  const t = (table: string, rowCount: number, checksum: string): TableState => ({ db: 'shop', table, rowCount, checksum });

  test('passes a row-count and a checksum check for an identical table', () => {
    expect(compareTableStates([t('orders', 3, '1-2')], [t('orders', 3, '1-2')])).toEqual([
      { name: 'row-count:shop.orders', kind: 'row-count', target: 'shop.orders', passed: true, expected: '3', actual: '3' },
      { name: 'checksum:shop.orders', kind: 'checksum', target: 'shop.orders', passed: true, expected: '1-2', actual: '1-2' },
    ]);
  });

  test('fails the row count with the difference in the message', () => {
    const [count] = compareTableStates([t('orders', 10, 'a')], [t('orders', 9, 'b')]);
    expect(count).toMatchObject({ passed: false, expected: '10', actual: '9' });
    expect(count?.message).toBe('Table shop.orders has 9 rows restored but 10 on the source (-1).');
  });

  test('fails the checksum when counts match but contents differ', () => {
    const [count, sum] = compareTableStates([t('orders', 3, '1-2')], [t('orders', 3, '1-3')]);
    expect(count?.passed).toBe(true);
    expect(sum).toMatchObject({ kind: 'checksum', passed: false, expected: '1-2', actual: '1-3' });
    expect(sum?.message).toContain('although the row counts match');
  });

  test('fails presence for a table missing from the restore', () => {
    expect(compareTableStates([t('orders', 3, 'x')], [])).toEqual([
      {
        name: 'presence:shop.orders',
        kind: 'presence',
        target: 'shop.orders',
        passed: false,
        expected: 'present',
        actual: 'absent',
        message: 'Table shop.orders exists on the source but not in the restored sandbox: the backup or the restore lost it.',
      },
    ]);
  });

  test('fails presence for an extra table in the restore', () => {
    const [r] = compareTableStates([], [t('tmp', 0, '0-0')]);
    expect(r).toMatchObject({ kind: 'presence', passed: false, expected: 'absent', actual: 'present' });
    expect(r?.message).toContain('exists in the restored sandbox but not on the source');
  });

  test('sorts results by database and table', () => {
    const names = compareTableStates([t('b', 1, 'x'), t('a', 1, 'x')], [t('a', 1, 'x'), t('b', 1, 'x')]).map((r) => r.name);
    expect(names).toEqual(['row-count:shop.a', 'checksum:shop.a', 'row-count:shop.b', 'checksum:shop.b']);
  });

  test('keeps tables of the same name in different databases apart', () => {
    const r = compareTableStates(
      [{ db: 'a', table: 't', rowCount: 1, checksum: 'x' }],
      [{ db: 'b', table: 't', rowCount: 1, checksum: 'x' }],
    );
    expect(r.map((c) => `${c.name}:${c.actual}`)).toEqual(['presence:a.t:absent', 'presence:b.t:present']);
  });

  test('rejects a table listed twice on one side', () => {
    expect(errorType(() => compareTableStates([t('o', 1, 'x'), t('o', 1, 'x')], []))).toBe('BadConfig');
  });
});

describe('checkTableResult', () => {
  test('passes a table whose status is OK', () => {
    expect(checkTableResult([{ Table: 'shop.orders', Op: 'check', Msg_type: 'status', Msg_text: 'OK' }])).toEqual([
      { name: 'check-table:shop.orders', kind: 'check-table', target: 'shop.orders', passed: true, expected: 'OK', actual: 'OK' },
    ]);
  });

  test('fails a table reported Corrupt, quoting the error lines', () => {
    const [r] = checkTableResult([
      { Table: 'shop.orders', Op: 'check', Msg_type: 'Warning', Msg_text: 'InnoDB: The B-tree of index PRIMARY is corrupted.' },
      { Table: 'shop.orders', Op: 'check', Msg_type: 'error', Msg_text: 'Corrupt' },
    ]);
    expect(r).toMatchObject({ passed: false, actual: 'Corrupt' });
    expect(r?.message).toBe(
      'CHECK TABLE shop.orders reports a problem: Corrupt; InnoDB: The B-tree of index PRIMARY is corrupted.',
    );
  });

  test('fails a corrupt MyISAM table as MariaDB 10.11 reports it (errors, no status row)', () => {
    const [r] = checkTableResult([
      { Table: 'shop.cor', Op: 'check', Msg_type: 'error', Msg_text: "Can't read indexpage from filepos: 3072" },
      { Table: 'shop.cor', Op: 'check', Msg_type: 'Error', Msg_text: "Index for table './shop/cor.MYI' is corrupt; try to repair it" },
      { Table: 'shop.cor', Op: 'check', Msg_type: 'error', Msg_text: 'Corrupt' },
    ]);
    expect(r).toMatchObject({
      passed: false,
      actual: "Can't read indexpage from filepos: 3072; Index for table './shop/cor.MYI' is corrupt; try to repair it; Corrupt",
    });
  });

  test('fails a table whose status is not OK even without an error line', () => {
    const [r] = checkTableResult([{ Table: 'shop.t', Op: 'check', Msg_type: 'status', Msg_text: 'Operation failed' }]);
    expect(r).toMatchObject({ passed: false, actual: 'Operation failed' });
  });

  test('fails a missing table (Error row, then Operation failed)', () => {
    const [r] = checkTableResult([
      { Table: 'shop.gone', Op: 'check', Msg_type: 'Error', Msg_text: "Table 'shop.gone' doesn't exist" },
      { Table: 'shop.gone', Op: 'check', Msg_type: 'status', Msg_text: 'Operation failed' },
    ]);
    expect(r).toMatchObject({ passed: false, actual: "Table 'shop.gone' doesn't exist; Operation failed" });
  });

  test('passes a table with a warning and an OK status, keeping the warning', () => {
    const [r] = checkTableResult([
      { Table: 'shop.t', Op: 'check', Msg_type: 'warning', Msg_text: '1 client is using or hasn\'t closed the table properly' },
      { Table: 'shop.t', Op: 'check', Msg_type: 'status', Msg_text: 'OK' },
    ]);
    expect(r).toMatchObject({ passed: true, actual: 'OK', message: "warning: 1 client is using or hasn't closed the table properly" });
  });

  test('passes, as not checked, a table whose engine cannot be checked', () => {
    const [r] = checkTableResult([
      { Table: 'shop.mem', Op: 'check', Msg_type: 'note', Msg_text: "The storage engine for the table doesn't support check" },
    ]);
    expect(r).toMatchObject({
      passed: true,
      actual: 'not checked',
      message: "note: The storage engine for the table doesn't support check",
    });
  });

  test('accepts "Table is already up to date" as a sound status', () => {
    const [r] = checkTableResult([{ Table: 'a.t', Op: 'check', Msg_type: 'status', Msg_text: 'Table is already up to date' }]);
    expect(r?.passed).toBe(true);
  });

  test('returns one result per table in first-seen order', () => {
    const r = checkTableResult([
      { Table: 'a.z', Op: 'check', Msg_type: 'status', Msg_text: 'OK' },
      { Table: 'a.b', Op: 'check', Msg_type: 'status', Msg_text: 'OK' },
    ]);
    expect(r.map((c) => c.target)).toEqual(['a.z', 'a.b']);
  });
});

describe('AssertionSpecSchema', () => {
  test('accepts keywords, scalars and the equals form', () => {
    for (const expect_ of ['zero', 'nonzero', 'rows', 'empty', 42, 'EUR', true, null, { equals: 'rows' }]) {
      expect(AssertionSpecSchema.safeParse({ name: 'a', sql: 'SELECT 1', expect: expect_ }).success).toBe(true);
    }
  });

  test('rejects a statement that writes', () => {
    const r = AssertionSpecSchema.safeParse({ name: 'a', sql: 'DELETE FROM t', expect: 'zero' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain('read-only query');
  });

  test('rejects unknown keys and a missing expect', () => {
    expect(AssertionSpecSchema.safeParse({ name: 'a', sql: 'SELECT 1', expect: 1, extra: 1 }).success).toBe(false);
    expect(AssertionSpecSchema.safeParse({ name: 'a', sql: 'SELECT 1' }).success).toBe(false);
  });

  test('rejects a name that cannot be used as a check name', () => {
    expect(AssertionSpecSchema.safeParse({ name: 'has space', sql: 'SELECT 1', expect: 1 }).success).toBe(false);
  });
});

describe('assertionResult', () => {
  const sql = 'SELECT COUNT(*) AS n FROM t';

  test('zero passes for a single 0 and fails otherwise', () => {
    expect(assertionResult('a', sql, 'zero', [{ n: 0 }])).toEqual({
      name: 'assertion:a',
      kind: 'assertion',
      target: 'a',
      passed: true,
      expected: '0',
      actual: '0',
    });
    expect(assertionResult('a', sql, 'zero', [{ n: 3 }])).toMatchObject({
      passed: false,
      actual: '3',
      message: `Assertion a failed: expected 0, got 3. Query: ${sql}`,
    });
  });

  test('nonzero passes for a non-zero number and fails for 0 or NULL', () => {
    expect(assertionResult('a', sql, 'nonzero', [{ n: '12' }]).passed).toBe(true);
    expect(assertionResult('a', sql, 'nonzero', [{ n: 0 }]).passed).toBe(false);
    expect(assertionResult('a', sql, 'nonzero', [{ n: null }])).toMatchObject({ passed: false, actual: 'NULL' });
  });

  test('rows and empty look only at the row count', () => {
    expect(assertionResult('a', sql, 'rows', [{ x: 1 }, { x: 2 }])).toMatchObject({ passed: true, actual: '2 rows' });
    expect(assertionResult('a', sql, 'rows', [])).toMatchObject({ passed: false, actual: '0 rows' });
    expect(assertionResult('a', sql, 'empty', [])).toMatchObject({ passed: true, expected: 'no rows' });
    expect(assertionResult('a', sql, 'empty', [{ x: 1 }])).toMatchObject({ passed: false, actual: '1 row' });
  });

  test('a number matches numerically, including DECIMAL strings', () => {
    expect(assertionResult('a', sql, 42, [{ n: '42.00' }]).passed).toBe(true);
    expect(assertionResult('a', sql, 1.5, [{ n: 1.5 }]).passed).toBe(true);
    expect(assertionResult('a', sql, 42, [{ n: '42x' }]).passed).toBe(false);
  });

  test('a string matches the exact text', () => {
    expect(assertionResult('a', sql, 'EUR', [{ c: 'EUR' }]).passed).toBe(true);
    expect(assertionResult('a', sql, '42', [{ c: '42.00' }]).passed).toBe(false);
    expect(assertionResult('a', sql, '42', [{ c: 42 }]).passed).toBe(true);
  });

  test('a string matches a binary result byte for byte as UTF-8', () => {
    expect(assertionResult('a', sql, 'héllo', [{ c: new Uint8Array([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]) }]).passed).toBe(true);
    expect(assertionResult('a', sql, 'hello', [{ c: new Uint8Array([0x68, 0x00]) }])).toMatchObject({
      passed: false,
      actual: '0x6800',
    });
  });

  test('true and false match 1 and 0', () => {
    expect(assertionResult('a', sql, true, [{ ok: 1 }]).passed).toBe(true);
    expect(assertionResult('a', sql, true, [{ ok: 2 }]).passed).toBe(false);
    expect(assertionResult('a', sql, false, [{ ok: '0' }]).passed).toBe(true);
  });

  test('null matches only NULL', () => {
    expect(assertionResult('a', sql, null, [{ v: null }]).passed).toBe(true);
    expect(assertionResult('a', sql, null, [{ v: '' }]).passed).toBe(false);
  });

  test('the equals form compares a keyword as a literal string', () => {
    expect(assertionResult('a', sql, { equals: 'rows' }, [{ v: 'rows' }])).toMatchObject({ passed: true, expected: 'rows' });
    expect(assertionResult('a', sql, { equals: 'rows' }, [{ v: 'x' }, { v: 'y' }]).passed).toBe(false);
  });

  test('a scalar expectation fails on more than one row or column, saying so', () => {
    expect(assertionResult('a', sql, 1, [{ n: 1 }, { n: 1 }])).toMatchObject({
      passed: false,
      actual: '2 rows',
      message: `Assertion a failed: expected exactly one row with one column, got 2 rows. Query: ${sql}`,
    });
    expect(assertionResult('a', sql, 1, [{ n: 1, m: 2 }])).toMatchObject({ passed: false, actual: '2 columns' });
  });

  test('reads rows returned as arrays', () => {
    expect(assertionResult('a', sql, 7, [[7]]).passed).toBe(true);
  });

  test('shows dates as ISO text', () => {
    const r = assertionResult('a', sql, '2026-11-21T18:30:00.000Z', [{ d: new Date('2026-11-21T18:30:00Z') }]);
    expect(r).toMatchObject({ passed: true, actual: '2026-11-21T18:30:00.000Z' });
  });

  test('evaluateAssertion applies a parsed spec', () => {
    const spec = AssertionSpecSchema.parse({ name: 'no-orphans', sql: 'SELECT COUNT(*) FROM o', expect: 'zero' });
    expect(evaluateAssertion(spec, [{ 'COUNT(*)': 0 }])).toMatchObject({ name: 'assertion:no-orphans', passed: true });
  });

  test('assertionErrorResult fails with the query error', () => {
    expect(assertionErrorResult({ name: 'x', sql: 'SELECT nope' }, "Unknown column 'nope'")).toEqual({
      name: 'assertion:x',
      kind: 'assertion',
      target: 'x',
      passed: false,
      actual: "error: Unknown column 'nope'",
      message: "Assertion x could not run: Unknown column 'nope'. Query: SELECT nope",
    });
  });
});

describe('serverChecksumObstacle', () => {
  const col = (name: string, dataType: string) => ({ name, dataType });
  test('allows tables of integers, text, dates, decimals and blobs', () => {
    expect(serverChecksumObstacle([col('id', 'bigint'), col('name', 'varchar'), col('at', 'datetime'), col('price', 'decimal'), col('doc', 'longblob'), col('t', 'timestamp')], false)).toBeUndefined();
  });
  test('refuses FLOAT and JSON columns, naming them, whatever the case of the type', () => {
    expect(serverChecksumObstacle([col('id', 'int'), col('w', 'FLOAT'), col('d', 'json')], false)).toBe('column w (float), d (json): a logical dump does not keep its stored form');
  });
  test('allows DOUBLE, which a dump writes with all its digits', () => {
    expect(serverChecksumObstacle([col('x', 'double')], false)).toBeUndefined();
  });
  test('refuses system-versioned tables', () => {
    expect(serverChecksumObstacle([col('id', 'int')], true)).toMatch(/system-versioned/);
  });
});

describe('sameServerVersion', () => {
  test("ignores MariaDB's -log suffix (binary logging on), nothing else", () => {
    expect(sameServerVersion('10.11.18-MariaDB-0+deb12u1-log', '10.11.18-MariaDB-0+deb12u1')).toBe(true);
    expect(sameServerVersion('9.7.0', '9.7.0')).toBe(true);
    expect(sameServerVersion('10.11.18-MariaDB-0+deb12u1', '10.11.6-MariaDB-0+deb12u1')).toBe(false);
    expect(sameServerVersion('8.4.3', '9.7.0')).toBe(false);
    expect(sameServerVersion(undefined, '9.7.0')).toBe(false);
  });
});

describe('serverChecksumValue', () => {
  test('never equals a row digest, and keeps NULL (a table the server could not read) distinct', () => {
    expect(serverChecksumValue(197091717)).toBe('server:197091717');
    expect(serverChecksumValue('197091717')).toBe('server:197091717');
    expect(serverChecksumValue(null)).toBe('server:NULL');
  });
});
