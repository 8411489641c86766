import { runOnSessions } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { checkSandboxTables } from '../../activities/checks/sandbox-checks';
import { tableStates } from '../../activities/source/checkpoint';
import { largestFirst } from '../../domain/checks/plan';
import type { CheckWorkItem } from '../../domain/checks/plan';
import { checkTableResult, tableKey } from '../../domain/checks/checksums';
import type { CheckTableRow, ChecksumMethod } from '../../domain/checks/checksums';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('checks: which per-table item starts first', () => {
  const item = (table: string, kind: CheckWorkItem['kind']): CheckWorkItem => ({ db: 'shop', table, kind });

  test('the largest table first, its state before its CHECK TABLE; ties and unknown sizes by name', () => {
    const sizes = new Map([[tableKey('shop', 'orders'), 600], [tableKey('shop', 'items'), 300], [tableKey('shop', 'b'), 10], [tableKey('shop', 'a'), 10]]);
    const items = ['a', 'b', 'items', 'orders', 'zz'].flatMap((t) => [item(t, 'check-table'), item(t, 'state')]);
    expect(largestFirst(items, sizes).map((i) => `${i.table}/${i.kind}`)).toEqual([
      'orders/state',
      'orders/check-table',
      'items/state',
      'items/check-table',
      'a/state',
      'a/check-table',
      'b/state',
      'b/check-table',
      'zz/state',
      'zz/check-table',
    ]);
  });
});

describe('checks: work over a pool of sessions', () => {
  test('every session takes the next item when free; results come back in the items order', async () => {
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const results = await runOnSessions(['s1', 's2', 's3'], [40, 5, 5, 5, 5, 30], async (s, ms) => {
      started.push(`${ms}`);
      most = Math.max(most, ++running);
      await sleep(ms);
      running--;
      return `${ms}@${s}`;
    });
    expect(most).toBe(3);
    expect(started).toEqual(['40', '5', '5', '5', '5', '30']);
    expect(results.map((r) => r.split('@')[0])).toEqual(['40', '5', '5', '5', '5', '30']);
    expect(results[0]).toBe('40@s1');
  });

  test('the first failure stops handing out items and is thrown once the running ones finished', async () => {
    const finished: number[] = [];
    const work = runOnSessions(['s1', 's2'], [1, 2, 3, 4, 5], async (_s, n) => {
      await sleep(n === 2 ? 1 : 20);
      if (n === 2) throw new Error('CHECK TABLE failed');
      finished.push(n);
    });
    await expect(work).rejects.toThrow('CHECK TABLE failed');
    // Item 1 was running when item 2 failed: it finished first; items 3 to 5 never started.
    expect(finished).toEqual([1]);
  });

  test('an abort stops handing out items', async () => {
    const abort = new AbortController();
    const seen: number[] = [];
    const work = runOnSessions(['s1'], [1, 2, 3], async (_s, n) => {
      seen.push(n);
      if (n === 1) abort.abort(new Error('cancelled'));
    }, abort.signal);
    await expect(work).rejects.toThrow('cancelled');
    expect(seen).toEqual([1]);
  });
});

/** A quiet server of four tables, answering what the checks ask, a little slower for bigger tables. */
function fakeServer() {
  const tables = [
    { t: 'customers', type: 'BASE TABLE', bytes: 100, rows: 10 },
    { t: 'history', type: 'SYSTEM VERSIONED', bytes: 50, rows: 5 },
    { t: 'items', type: 'BASE TABLE', bytes: 300, rows: 30 },
    { t: 'orders', type: 'BASE TABLE', bytes: 600, rows: 60 },
  ];
  const log: string[] = [];
  const session = (): SqlSession => ({
    async query<T>(sql: string): Promise<T[]> {
      log.push(sql);
      const named = (name: string) => tables.find((x) => name === `\`shop\`.\`${x.t}\``)!;
      let rows: unknown[];
      if (sql.startsWith('SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, TABLE_TYPE')) rows = tables.map((x) => ({ db: 'shop', t: x.t, type: x.type, bytes: String(x.bytes) }));
      else if (sql.includes('FROM information_schema.COLUMNS')) rows = tables.flatMap((x) => ['id', 'note'].map((c) => ({ db: 'shop', table_name: x.t, column_name: c, data_type: c === 'id' ? 'int' : 'varchar' })));
      else if (sql.startsWith('CHECK TABLE ')) {
        rows = sql
          .slice('CHECK TABLE '.length)
          .split(', ')
          .flatMap((name): CheckTableRow[] => [
            ...(name.includes('items') ? [{ Table: `shop.${named(name).t}`, Op: 'check', Msg_type: 'warning', Msg_text: 'Found row with old format' }] : []),
            { Table: `shop.${named(name).t}`, Op: 'check', Msg_type: 'status', Msg_text: 'OK' },
          ]);
      } else if (sql.startsWith('SELECT COUNT(*) AS n FROM ')) rows = [{ n: String(named(sql.slice('SELECT COUNT(*) AS n FROM '.length)).rows) }];
      else if (sql.startsWith('CHECKSUM TABLE ')) rows = [{ Table: 'x', Checksum: named(sql.slice('CHECKSUM TABLE '.length, -' EXTENDED'.length)).rows * 7 }];
      else if (sql.startsWith('SELECT COUNT(*) AS row_count')) {
        const x = named(/FROM (`shop`\.`[^`]+`)\) AS rd_rows$/.exec(sql)![1]);
        rows = [{ row_count: x.rows, checksum: `${x.rows}-${x.bytes}` }];
      } else throw new Error(`unexpected query ${sql}`);
      const big = /`(orders|items|customers|history)`/.exec(sql);
      await sleep(big ? tables.find((x) => x.t === big[1])!.bytes / 60 : 0);
      return rows as T[];
    },
    loadLocal: () => Promise.reject(new Error('not here')),
    close: () => Promise.resolve(),
  });
  return { session, log };
}

describe('checks: per-table items on several sessions', () => {
  const methods = new Map<string, ChecksumMethod>([
    [tableKey('shop', 'orders'), 'server'],
    [tableKey('shop', 'items'), 'rows'],
    [tableKey('shop', 'customers'), 'server'],
    [tableKey('shop', 'history'), 'rows'],
  ]);

  test('give what one CHECK TABLE of all tables and the serial table states give, in the same order', async () => {
    const server = fakeServer();
    const one = server.session();
    const serialCheck = checkTableResult(await one.query<CheckTableRow>('CHECK TABLE `shop`.`customers`, `shop`.`items`, `shop`.`orders`'));
    const serialStates = await tableStates(one, ['shop'], { methods });
    const parallel = await checkSandboxTables([server.session(), server.session(), server.session()], ['shop'], methods);
    expect(parallel.checkTables).toEqual(serialCheck);
    expect(parallel.checkTables.map((c) => c.name)).toEqual(['check-table:shop.customers', 'check-table:shop.items', 'check-table:shop.orders']);
    expect(parallel.states).toEqual(serialStates);
    expect(parallel.timings.sessions).toBe(3);
    expect(parallel.timings.checkTableSeconds).toBeGreaterThan(0);
    expect(parallel.timings.tableStatesSeconds).toBeGreaterThan(0);
    // Items overlap: the sessions' summed time exceeds the wall time of the parallel part.
    expect(parallel.timings.checkTableSeconds + parallel.timings.tableStatesSeconds).toBeGreaterThan(parallel.timings.wallSeconds);
  });

  test('the biggest table is checked first, one table per CHECK TABLE; without a checkpoint no states are read', async () => {
    const server = fakeServer();
    const result = await checkSandboxTables([server.session(), server.session()], ['shop'], undefined);
    expect(result.states).toEqual([]);
    expect(result.timings.tableStatesSeconds).toBe(0);
    expect(server.log.filter((q) => q.startsWith('CHECK TABLE') || q.includes('COUNT'))).toEqual(['CHECK TABLE `shop`.`orders`', 'CHECK TABLE `shop`.`items`', 'CHECK TABLE `shop`.`customers`']);
  });
});
