import {
  accountName,
  compareObjects,
  compareRowsLoaded,
  definerChecks,
  describeObjectsSummary,
  lockedAccountSql,
  missingDefiners,
  normalizeDefiner,
  normalizeDefinition,
  splitDefiner,
  viewCheck,
} from '../../domain/checks/objects';
import type { StoredObject } from '../../domain/checks/objects';
import { DeclaredObjects, declaredObject } from '../../domain/dump/declared-objects';
import { countInsertRows } from '../../domain/dump/insert-rows';
import { buildDrillReport, reportFailure } from '../../domain/report/build';
import type { DrillRecord } from '../../domain/report/build';
import { renderText } from '../../domain/report/report';

const view: StoredObject = { kind: 'view', db: 'shop', name: 'open_orders', definer: 'app@%', definition: 'select `shop`.`orders`.`id` AS `id` from `shop`.`orders`' };
const trigger: StoredObject = { kind: 'trigger', db: 'shop', name: 'orders_bi', definer: 'app@%', definition: 'SET NEW.total = 0' };
const proc: StoredObject = { kind: 'procedure', db: 'shop', name: 'refund', definer: 'root@localhost', definition: 'BEGIN SELECT 1; END' };

describe('definers', () => {
  test('information_schema, dump and quoted forms name the same account; the host is case-insensitive', () => {
    expect(normalizeDefiner('app@%')).toBe('app@%');
    expect(normalizeDefiner('`app`@`%`')).toBe('app@%');
    expect(normalizeDefiner("'app'@'LocalHost'")).toBe('app@localhost');
    expect(splitDefiner('`we``ird`@`10.0.%`')).toEqual({ user: 'we`ird', host: '10.0.%' });
    expect(splitDefiner('mail@example@localhost')).toEqual({ user: 'mail@example', host: 'localhost' });
    expect(splitDefiner('reporting_role')).toEqual({ user: 'reporting_role', host: '' });
  });

  test("a locked account is created with privileges on every restored database, quoted as a literal", () => {
    expect(accountName("o'brien@%")).toBe("'o''brien'@'%'");
    expect(lockedAccountSql('app@%', ['shop', 'we`ird'])).toEqual([
      "CREATE USER IF NOT EXISTS 'app'@'%' ACCOUNT LOCK",
      "GRANT ALL PRIVILEGES ON `shop`.* TO 'app'@'%'",
      "GRANT ALL PRIVILEGES ON `we``ird`.* TO 'app'@'%'",
    ]);
  });

  test('definers missing in the sandbox are listed once, in first-use order', () => {
    expect(missingDefiners([view, trigger, proc], ['root@localhost', 'mysql.sys@localhost'])).toEqual(['app@%']);
    expect(missingDefiners([view, proc], ['app@%', 'root@localhost'])).toEqual([]);
  });

  test('#16: a missing definer fails typed DefinerMissing naming the account and the objects that cannot run', () => {
    const [app, root] = definerChecks([view, trigger, proc], ['app@%'], []);
    expect(app).toMatchObject({ name: 'definer:app@%', passed: false, failureType: 'DefinerMissing' });
    expect(app.message).toMatch(/app@% is the DEFINER of view shop\.open_orders, trigger shop\.orders_bi .*ERROR 1449/);
    expect(root).toMatchObject({ name: 'definer:root@localhost', passed: true, actual: 'exists' });
  });

  test('a definer created locked passes and says so', () => {
    const [app] = definerChecks([view], ['app@%'], ['app@%']);
    expect(app).toMatchObject({ passed: true, actual: 'created locked' });
    expect(app.message).toMatch(/created as a locked account/);
  });
});

describe('objects compared with the source or the dump', () => {
  test('definitions compare with whitespace normalised and without a trailing delimiter', () => {
    expect(normalizeDefinition('BEGIN\n  SELECT  1;\r\nEND ;')).toBe('BEGIN SELECT 1; END');
  });

  test('every expected object present with the same definer and definition passes', () => {
    const checks = compareObjects([view, trigger], [trigger, view, proc], 'source');
    expect(checks.map((c) => [c.name, c.passed])).toEqual([
      ['object:view:shop.open_orders', true],
      ['object:trigger:shop.orders_bi', true],
    ]);
  });

  test('a missing object fails typed ObjectMissing, naming it', () => {
    const [c] = compareObjects([proc], [view], 'dump');
    expect(c).toMatchObject({ passed: false, failureType: 'ObjectMissing', target: 'procedure shop.refund' });
    expect(c.message).toMatch(/procedure shop\.refund is missing .* the dump creates it/);
  });

  test('another definer or another definition fails typed ObjectDiffers', () => {
    expect(compareObjects([view], [{ ...view, definer: 'root@localhost' }], 'source')[0]).toMatchObject({ passed: false, failureType: 'ObjectDiffers', expected: 'DEFINER=app@%' });
    expect(compareObjects([trigger], [{ ...trigger, definition: 'SET NEW.total = 1' }], 'source')[0]).toMatchObject({ passed: false, failureType: 'ObjectDiffers' });
  });

  test('a definition unknown on one side (a dump declaration, a hidden routine body) is not compared', () => {
    const declared = { kind: 'procedure' as const, db: 'shop', name: 'refund', definer: '`root`@`localhost`' };
    expect(compareObjects([declared], [proc], 'dump')[0].passed).toBe(true);
  });

  test('a view that does not select fails typed ViewUnusable with the server error', () => {
    expect(viewCheck(view, undefined)).toMatchObject({ passed: true });
    const failed = viewCheck(view, "Table 'shop.orders' doesn't exist");
    expect(failed).toMatchObject({ name: 'view:shop.open_orders', passed: false, failureType: 'ViewUnusable' });
    expect(failed.message).toMatch(/view shop\.open_orders cannot be selected from .*shop\.orders' doesn't exist/);
  });
});

describe('rows loaded per table', () => {
  test('equal counts pass; a table the dump inserted nothing into must be empty', () => {
    const checks = compareRowsLoaded({ 'shop.orders': 3 }, [
      { db: 'shop', table: 'orders', rows: 3 },
      { db: 'shop', table: 'empty', rows: 0 },
    ]);
    expect(checks.every((c) => c.passed)).toBe(true);
  });

  test('a mismatch fails typed RowsLoadedMismatch, naming the table and both numbers', () => {
    const [c] = compareRowsLoaded({ 'shop.orders': 3 }, [{ db: 'shop', table: 'orders', rows: 2 }]);
    expect(c).toMatchObject({ passed: false, failureType: 'RowsLoadedMismatch', expected: '3', actual: '2' });
    expect(c.message).toBe('shop.orders: the dump inserts 3 rows but the restored table holds 2');
  });

  test('rows loaded into a table the sandbox does not have fail', () => {
    expect(compareRowsLoaded({ 'shop.gone': 1 }, [])[0]).toMatchObject({ passed: false, actual: 'no such table' });
  });

  test('an INSERT is counted by its rows, whatever its values hold', () => {
    expect(countInsertRows(Buffer.from("INSERT INTO `t` VALUES (1,'a),(b'),(2,'it''s \\' (x)'),(3,0x28,_binary '\\0)');"))).toEqual({ table: 't', rows: 3 });
    expect(countInsertRows(Buffer.from('INSERT IGNORE INTO `shop`.`t` (`a`,`b`) VALUES (1,2),\n(3,4);'))).toEqual({ table: 't', database: 'shop', rows: 2 });
    expect(countInsertRows(Buffer.from("INSERT INTO t VALUES ('a\\\\'),('b');"), true)).toEqual({ table: 't', rows: 2 });
    expect(countInsertRows(Buffer.from("INSERT INTO t VALUES ('a\\'),('b');"), false)).toEqual({ table: 't', rows: 2 });
    expect(countInsertRows(Buffer.from('SET @a = 1;'))).toBeUndefined();
    expect(countInsertRows(Buffer.from("INSERT INTO t VALUES ('unterminated);"))).toBeUndefined();
  });
});

describe("the objects a dump declares", () => {
  const mysqlPost = [
    '/*!40101 SET NAMES utf8mb4 */;',
    'USE `shop`;',
    '/*!50003 SET @saved_cs_client      = @@character_set_client */ ;',
    'DELIMITER ;;',
    '/*!50003 CREATE*/ /*!50017 DEFINER=`app`@`%`*/ /*!50003 TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.total = 0 */;;',
    'DELIMITER ;',
    '--',
    '-- Dumping routines for database \'shop\'',
    '--',
    '/*!50003 DROP PROCEDURE IF EXISTS `refund` */;',
    'DELIMITER ;;',
    'CREATE DEFINER=`app`@`%` PROCEDURE `refund`(IN p INT)',
    'BEGIN',
    '  UPDATE orders SET total = 0 WHERE id = p;',
    'END ;;',
    'CREATE DEFINER=`root`@`localhost` FUNCTION `vat`(x DECIMAL(10,2)) RETURNS decimal(10,2)',
    '    DETERMINISTIC',
    'RETURN x * 0.2 ;;',
    '/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`localhost`*/ /*!50106 EVENT `purge` ON SCHEDULE EVERY 1 DAY DO DELETE FROM t */ ;;',
    'DELIMITER ;',
    '/*!50001 DROP VIEW IF EXISTS `open_orders`*/;',
    '/*!50001 CREATE ALGORITHM=UNDEFINED */',
    '/*!50013 DEFINER=`app`@`%` SQL SECURITY DEFINER */',
    '/*!50001 VIEW `open_orders` AS select `orders`.`id` AS `id` from `orders` */;',
  ].join('\n');

  test('triggers, routines, events and views of a mysqldump post part, with their definers and database', () => {
    const d = new DeclaredObjects();
    d.push('/*M!999999\\- enable the sandbox mode */\nUSE `shop`;\n/*!50001 CREATE VIEW `open_orders` AS SELECT\n 1 AS `id` */;\n');
    d.push(mysqlPost);
    expect(d.objects).toEqual([
      { kind: 'view', db: 'shop', name: 'open_orders', definer: '`app`@`%`' },
      { kind: 'trigger', db: 'shop', name: 'orders_bi', definer: '`app`@`%`' },
      { kind: 'procedure', db: 'shop', name: 'refund', definer: '`app`@`%`' },
      { kind: 'function', db: 'shop', name: 'vat', definer: '`root`@`localhost`' },
      { kind: 'event', db: 'shop', name: 'purge', definer: '`root`@`localhost`' },
    ]);
  });

  test('a qualified name, OR REPLACE, MariaDB comments and CURRENT_USER', () => {
    expect(declaredObject('CREATE OR REPLACE DEFINER=`x`@`localhost` AGGREGATE FUNCTION `a`.`f`() RETURNS INT BEGIN END', undefined)).toEqual({ kind: 'function', db: 'a', name: 'f', definer: '`x`@`localhost`' });
    expect(declaredObject('/*M!100100 CREATE*/ /*!50017 DEFINER=CURRENT_USER*/ /*!50003 TRIGGER t1 AFTER UPDATE ON t FOR EACH ROW SET @a=1 */', 'db')).toEqual({ kind: 'trigger', db: 'db', name: 't1' });
    expect(declaredObject('CREATE TABLE `t` (id INT)', 'db')).toBeUndefined();
    expect(declaredObject('CREATE VIEW v AS SELECT 1', undefined)).toBeUndefined();
  });
});

describe('the report', () => {
  const record = (checks: DrillRecord['checks'], objects?: DrillRecord['objects']): DrillRecord => ({
    drillId: 'd',
    source: 'shop',
    flavor: 'mariadb',
    serverVersion: '10.11',
    startedAt: '2026-12-04T18:00:00Z',
    finishedAt: '2026-12-04T18:01:00Z',
    backup: { artifactPath: '/b', bytes: 1, sha256: 'x' },
    target: 'checkpoint',
    base: { manifestPath: '/m', chosen: 'taken' },
    checks,
    objects,
    phases: [],
    cancelled: false,
  });

  test('a failed object check types the drill failure and its message leads with the object', () => {
    const report = buildDrillReport(record([{ name: 'checksum:shop.t', kind: 'checksum', target: 'shop.t', passed: true }, ...definerChecks([view], ['app@%'], [])]));
    const failure = reportFailure(report);
    expect(failure?.type).toBe('DefinerMissing');
    expect(failure?.message).toMatch(/definer:app@%.*app@% is the DEFINER of view shop\.open_orders/);
  });

  test('failed checks without a type of their own stay CheckFailed', () => {
    expect(reportFailure(buildDrillReport(record([{ name: 'checksum:shop.t', kind: 'checksum', target: 'shop.t', passed: false }])))?.type).toBe('CheckFailed');
  });

  test('shows the objects checked and the accounts created', () => {
    const summary = { checked: { view: 2, trigger: 1, procedure: 1 }, accountsCreated: ['app@%'] };
    expect(describeObjectsSummary(summary)).toBe('2 views, 1 procedure, 1 trigger checked; definers created as locked accounts in the sandbox: app@%');
    expect(renderText(buildDrillReport(record([{ name: 'x', kind: 'checksum', target: 'x', passed: true }], summary)))).toContain('objects  2 views, 1 procedure, 1 trigger checked; definers created');
  });
});
