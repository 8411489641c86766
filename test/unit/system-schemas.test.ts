import { SystemSchemaFilter } from '../../domain/dump/system-schemas';

const DUMP = [
  '-- MySQL dump 10.13',
  '/*!40101 SET NAMES utf8mb4 */;',
  '',
  '-- Current Database: `mysql`',
  'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `mysql`;',
  'USE `mysql`;',
  'DROP TABLE IF EXISTS `user`;',
  "INSERT INTO `user` VALUES ('localhost','root');",
  '',
  '-- Current Database: `shop`',
  'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`;',
  'USE `shop`;',
  'INSERT INTO `orders` VALUES (1);',
  '-- Current Database: `sys`',
  'USE `sys`;',
  'CREATE VIEW x AS SELECT 1;',
  '/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;',
  '-- Dump completed on 2026-12-04 10:00:00',
].join('\n');

function filtered(text: string, cut: number[]): { out: string; skipped: string[] } {
  const f = new SystemSchemaFilter();
  const bytes = Buffer.from(text);
  const parts: Buffer[] = [];
  let at = 0;
  for (const c of [...cut, bytes.length]) {
    parts.push(f.push(bytes.subarray(at, c)));
    at = c;
  }
  parts.push(f.finish());
  return { out: Buffer.concat(parts).toString(), skipped: [...f.skipped] };
}

describe('system schemas left out of a restore', () => {
  test('the mysql and sys sections go, every other line stays in order', () => {
    const { out, skipped } = filtered(DUMP, []);
    expect(out.trimEnd().split('\n')).toEqual([
      '-- MySQL dump 10.13',
      '/*!40101 SET NAMES utf8mb4 */;',
      '',
      '-- Current Database: `shop`',
      'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`;',
      'USE `shop`;',
      'INSERT INTO `orders` VALUES (1);',
      '/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;',
      '-- Dump completed on 2026-12-04 10:00:00',
    ]);
    expect(skipped).toEqual(['mysql', 'sys']);
  });

  test('the same bytes come out however the stream is cut, markers cut in half included', () => {
    const whole = filtered(DUMP, []).out;
    for (let c = 1; c < DUMP.length; c += 7) expect(filtered(DUMP, [c, Math.min(DUMP.length, c + 3)]).out).toBe(whole);
  });

  test('long lines and markers near the end of a read: the same bytes for reads of every size', () => {
    const long = (n: number) => `INSERT INTO \`t\` VALUES ${Array.from({ length: n }, (_, i) => `(${i},'x')`).join(',')};`;
    const text = [...DUMP.split('\n').slice(0, 8), long(300), '-- Current Database: `shop`', long(120), 'USE `shop`;', long(5), '-- Current Database: `mysql`', long(200), '-- Dump completed on 2026-12-04 10:00:00'].join('\n');
    const whole = filtered(text, []);
    expect(whole.out).not.toContain("VALUES ('localhost','root')");
    expect(whole.out).toContain('-- Current Database: `shop`');
    expect(whole.skipped).toEqual(['mysql']);
    for (let size = 1; size < 1400; size += size < 40 ? 1 : 37) {
      const cuts = Array.from({ length: Math.ceil(text.length / size) - 1 }, (_, i) => (i + 1) * size);
      expect(filtered(text, cuts).out).toBe(whole.out);
    }
  });

  test('a read without a marker passes through as the same bytes, not a copy', () => {
    const f = new SystemSchemaFilter();
    f.push(Buffer.from('-- Current Database: `shop`\n'));
    const read = Buffer.from(`${'x'.repeat(2000)}\n${'y'.repeat(1000)}`);
    const out = f.push(read);
    expect(out.buffer).toBe(read.buffer);
    expect(out.byteOffset).toBe(read.byteOffset);
  });

  test('a dump without system schemas passes through unchanged', () => {
    const text = '-- Current Database: `shop`\nUSE `shop`;\nINSERT INTO t VALUES (1);\n-- Dump completed on 2026-12-04 10:00:00\n';
    expect(filtered(text, [10]).out.replace(/\n$/, '')).toBe(text.replace(/\n$/, ''));
  });
});
