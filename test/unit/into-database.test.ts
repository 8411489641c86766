import { IntoDatabase } from '../../domain/dump/into-database';

const DUMP = '-- MySQL dump 10.13\n/*!40101 SET NAMES utf8mb4 */;\n\n--\n-- Table structure for table `t`\n--\n\nCREATE TABLE `t` (id int);\n--\n-- Table structure for table `u`\n--\n';

function run(text: string, cuts: number[]): string {
  const f = new IntoDatabase('shop');
  const b = Buffer.from(text);
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, b.length]) {
    out.push(f.push(b.subarray(at, c)));
    at = c;
  }
  out.push(f.finish());
  return Buffer.concat(out).toString();
}

describe('a one-database dump restored into its database', () => {
  test('CREATE DATABASE and USE go before the first table only, after the session settings', () => {
    const out = run(DUMP, []);
    expect(out).toBe(DUMP.replace('\n--\n-- Table structure for table `t`', '\n--\n-- Current Database: `shop`\n--\n\nCREATE DATABASE IF NOT EXISTS `shop`;\n\nUSE `shop`;\n\n--\n-- Table structure for table `t`'));
    expect(out.match(/USE `shop`/g)).toHaveLength(1);
  });

  test('the same bytes come out however the stream is cut', () => {
    const whole = run(DUMP, []);
    for (let c = 1; c < DUMP.length; c += 3) expect(run(DUMP, [c])).toBe(whole);
  });
});
