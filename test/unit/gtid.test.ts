import {
  addGtid,
  detectGtidFlavor,
  gtidSetContains,
  gtidSetEquals,
  gtidSetUnion,
  normalizeGtid,
  normalizeGtidSet,
  parseMariadbGtidList,
  parseMysqlGtidSet,
} from '../../domain/binlog/gtid';
import { caught } from './binlog-fixtures';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = 'aaaaaaaa-bbbb-cccc-dddd-000000000001';

describe('MySQL GTID sets', () => {
  test('normalizing sorts UUIDs and merges overlapping and adjacent intervals', () => {
    expect(normalizeGtidSet('mysql', `${B}:1-3,${A}:7-9:1-5:6`)).toBe(`${A}:1-9,${B}:1-3`);
  });

  test('the same UUID listed twice is merged', () => {
    expect(normalizeGtidSet('mysql', `${A}:1-3,${A}:5`)).toBe(`${A}:1-3:5`);
  });

  test('whitespace and newlines as the server prints them are ignored', () => {
    expect(normalizeGtidSet('mysql', ` ${A}:1-5,\n${B}:1-3 \n`)).toBe(`${A}:1-5,${B}:1-3`);
  });

  test('upper-case and undashed UUIDs are written lower-case and dashed', () => {
    expect(normalizeGtidSet('mysql', `${A.toUpperCase()}:1,${B.replace(/-/g, '')}:2`)).toBe(`${A}:1,${B}:2`);
  });

  test('the empty string is the empty set', () => {
    expect(normalizeGtidSet('mysql', '  ')).toBe('');
    expect(parseMysqlGtidSet('').size).toBe(0);
  });

  test('tagged GTIDs (8.3+) put untagged intervals first, then tags in order, lower-cased', () => {
    expect(normalizeGtidSet('mysql', `${A}:Beta:1-2:alpha:3,${A}:1-5`)).toBe(`${A}:1-5:alpha:3:beta:1-2`);
  });

  test('intervals keep their place after a tag until the next tag', () => {
    const set = parseMysqlGtidSet(`${A}:1:tag:5-6:8`);
    expect([...set.get(A)!.get('tag')!].map((i) => [i.start, i.end])).toEqual([
      [5n, 6n],
      [8n, 8n],
    ]);
  });

  test('transaction numbers beyond 2^53 are exact', () => {
    expect(normalizeGtidSet('mysql', `${A}:9007199254740993-9007199254740994`)).toBe(`${A}:9007199254740993-9007199254740994`);
  });

  test.each([
    [`${A}`, 'no transaction numbers'],
    [`${A}:0`, 'out of range'],
    [`${A}:5-3`, 'ends before it starts'],
    [`not-a-uuid:1`, 'not a UUID'],
    [`${A}:1,,${B}:1`, 'empty entry'],
    [`${A}:tag`, 'no transaction numbers'],
    [`${A}:1-x`, 'not a transaction number'],
  ])('%j is refused (%s)', (text, why) => {
    const e = caught(() => parseMysqlGtidSet(text));
    expect(e.type).toBe('BadConfig');
    expect(e.message).toContain(why);
  });

  test('contains checks membership in the intervals of the GTID UUID and tag', () => {
    const set = `${A}:1-5:7,${B}:1-3:tag:9`;
    expect(gtidSetContains('mysql', set, `${A}:5`)).toBe(true);
    expect(gtidSetContains('mysql', set, `${A}:6`)).toBe(false);
    expect(gtidSetContains('mysql', set, `${B}:tag:9`)).toBe(true);
    expect(gtidSetContains('mysql', set, `${B}:9`)).toBe(false);
    expect(gtidSetContains('mysql', set, `${A.toUpperCase()}:7`)).toBe(true);
  });

  test('equals compares canonical forms', () => {
    expect(gtidSetEquals('mysql', `${A}:1-3:4-5`, `${A}:1-5`)).toBe(true);
    expect(gtidSetEquals('mysql', `${A}:1-5`, `${A}:1-6`)).toBe(false);
  });

  test('adding a GTID fills a hole and merges the neighbours', () => {
    expect(addGtid('mysql', `${A}:1-5:7-9`, `${A}:6`)).toBe(`${A}:1-9`);
    expect(addGtid('mysql', '', `${B}:nightly:1`)).toBe(`${B}:nightly:1`);
  });

  test('union merges two sets', () => {
    expect(gtidSetUnion('mysql', `${A}:1-3`, `${A}:4-6,${B}:1`)).toBe(`${A}:1-6,${B}:1`);
  });
});

describe('MariaDB GTID lists', () => {
  test('normalizing sorts by domain id', () => {
    expect(normalizeGtidSet('mariadb', '2-1-5, 0-1-100 ,1-2-7')).toBe('0-1-100,1-2-7,2-1-5');
  });

  test('a domain listed twice keeps its highest sequence number', () => {
    expect(normalizeGtidSet('mariadb', '0-1-100,0-2-140,0-3-120')).toBe('0-2-140');
    expect(parseMariadbGtidList('0-1-1,0-2-2').get(0)!.server).toBe(2);
  });

  test('contains means the domain is listed with a sequence number at least the GTID one', () => {
    expect(gtidSetContains('mariadb', '0-1-100,1-2-5', '0-1-100')).toBe(true);
    expect(gtidSetContains('mariadb', '0-1-100,1-2-5', '0-7-99')).toBe(true);
    expect(gtidSetContains('mariadb', '0-1-100,1-2-5', '0-1-101')).toBe(false);
    expect(gtidSetContains('mariadb', '0-1-100,1-2-5', '3-1-1')).toBe(false);
  });

  test('adding a GTID advances its domain and adds a new domain', () => {
    expect(addGtid('mariadb', '0-1-100', '0-1-101')).toBe('0-1-101');
    expect(addGtid('mariadb', '0-1-100', '2-1-1')).toBe('0-1-100,2-1-1');
  });

  test('adding an older GTID leaves the domain where it is', () => {
    expect(addGtid('mariadb', '0-1-100', '0-1-50')).toBe('0-1-100');
  });

  test('equals compares domain, server and sequence number', () => {
    expect(gtidSetEquals('mariadb', '1-2-5,0-1-100', '0-1-100,1-2-5')).toBe(true);
    expect(gtidSetEquals('mariadb', '0-1-100', '0-2-100')).toBe(false);
  });

  test('sequence numbers up to 2^64-1 are exact', () => {
    expect(normalizeGtidSet('mariadb', '0-1-18446744073709551615')).toBe('0-1-18446744073709551615');
  });

  test.each([
    ['0-1', 'expected domain-server-seq'],
    ['0-1-x', 'not a number'],
    ['4294967296-1-1', 'out of range'],
    ['0-1-18446744073709551616', 'out of range'],
    ['0-1-1,,1-1-1', 'empty entry'],
  ])('%j is refused (%s)', (text, why) => {
    const e = caught(() => normalizeGtidSet('mariadb', text));
    expect(e.type).toBe('BadConfig');
    expect(e.message).toContain(why);
  });
});

describe('single GTIDs', () => {
  test.each([
    [`${A}:23`, 'mysql'],
    [`${A}:tag_1:23`, 'mysql'],
    ['0-1-100', 'mariadb'],
    [`${A}:1-5`, undefined],
    ['0-1', undefined],
    ['mysql-bin.000001:4', undefined],
  ])('%j is a %s GTID', (text, flavor) => {
    expect(detectGtidFlavor(text)).toBe(flavor);
  });

  test('normalizing a single GTID lower-cases UUID and tag', () => {
    expect(normalizeGtid('mysql', `${A.toUpperCase()}:TAG:5`)).toBe(`${A}:tag:5`);
    expect(normalizeGtid('mariadb', ' 0-1-007 ')).toBe('0-1-7');
  });
});
