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

  test('a dump without system schemas passes through unchanged', () => {
    const text = '-- Current Database: `shop`\nUSE `shop`;\nINSERT INTO t VALUES (1);\n-- Dump completed on 2026-12-04 10:00:00\n';
    expect(filtered(text, [10]).out.replace(/\n$/, '')).toBe(text.replace(/\n$/, ''));
  });
});
