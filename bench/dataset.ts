/**
 * The benchmark's deterministic dataset and write workload: plain SQL that runs on MariaDB
 * 10.11 and MySQL 9.7 alike, every value derived from the row number (no RAND()), so two
 * runs of one size hold the same bytes.
 */

export type BenchSize = 'smoke' | 'ci' | '1g';

export interface SizeSpec {
  /** Rows per table (multiples of 100: the batch workload wraps its 100-row ranges within orders). */
  customers: number;
  orders: number;
  wide: number;
  skewed: number;
  /** Batch workload transactions; each writes 100 row events (updates) plus one insert. */
  transactions: number;
}

export const SIZES: Record<BenchSize, SizeSpec> = {
  /** About 105k rows, 8 MB of dump: a few minutes end to end, for trying the harness. */
  smoke: { customers: 20_000, orders: 60_000, wide: 5_000, skewed: 20_000, transactions: 2_000 },
  /** About 2M rows, 0.16 GB of dump. */
  ci: { customers: 300_000, orders: 1_200_000, wide: 100_000, skewed: 400_000, transactions: 2_100 },
  /** The CI size times 7: 14M rows, about 1.1 GB of dump. */
  '1g': { customers: 2_100_000, orders: 8_400_000, wide: 700_000, skewed: 2_800_000, transactions: 4_000 },
};

export const BENCH_TABLES = ['customers', 'orders', 'wide', 'skewed'] as const;

export function totalRows(s: SizeSpec): number {
  return s.customers + s.orders + s.wide + s.skewed;
}

/** The same dataset at `factor` of its rows (the growth series), rounded to hundreds; the workload is unchanged. */
export function scaledSize(s: SizeSpec, factor: number): SizeSpec {
  const rows = (n: number) => Math.max(100, Math.round((n * factor) / 100) * 100);
  return { customers: rows(s.customers), orders: rows(s.orders), wide: rows(s.wide), skewed: rows(s.skewed), transactions: s.transactions };
}

const MILLION = 1_000_000;

/** `INSERT … SELECT` from a 1M-row numbers table, in passes of a million for bigger tables. */
function fill(table: string, rows: number, columns: string, select: (n: string) => string): string[] {
  const out: string[] = [];
  for (let base = 0; base < rows; base += MILLION) {
    const upto = Math.min(MILLION, rows - base);
    out.push(`INSERT INTO bench.${table} (${columns}) SELECT ${select(`(n + ${base})`)} FROM bench.nums WHERE n BETWEEN 1 AND ${upto}`);
  }
  return out;
}

export function datasetSql(s: SizeSpec): string[] {
  const digits = Array.from({ length: 10 }, (_, i) => `(${i})`).join(',');
  const wideCols = Array.from({ length: 20 }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
  const wideInts = Array.from({ length: 10 }, (_, i) => `i${String(i + 1).padStart(2, '0')}`);
  return [
    'DROP DATABASE IF EXISTS bench',
    'CREATE DATABASE bench',
    'CREATE TABLE bench.digits (d INT PRIMARY KEY)',
    `INSERT INTO bench.digits VALUES ${digits}`,
    'CREATE TABLE bench.nums (n INT PRIMARY KEY)',
    'INSERT INTO bench.nums SELECT 1 + a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d + 100000*g.d FROM bench.digits a, bench.digits b, bench.digits c, bench.digits e, bench.digits f, bench.digits g',
    `CREATE TABLE bench.customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, email VARCHAR(96) NOT NULL, country CHAR(2) NOT NULL, created DATETIME NOT NULL, KEY (email), KEY (country, created))`,
    `CREATE TABLE bench.orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, status TINYINT NOT NULL, amount DECIMAL(12,2) NOT NULL, created DATETIME NOT NULL, note VARCHAR(80) NOT NULL, KEY (customer_id), KEY (created))`,
    `CREATE TABLE bench.wide (id INT PRIMARY KEY, ${wideCols.map((c) => `${c} VARCHAR(32) NOT NULL`).join(', ')}, ${wideInts.map((c) => `${c} INT NOT NULL`).join(', ')}, body TEXT NOT NULL, KEY (i01))`,
    'CREATE TABLE bench.skewed (id INT PRIMARY KEY, k INT NOT NULL, v VARCHAR(40) NOT NULL, KEY (k))',
    ...fill('customers', s.customers, 'id, name, email, country, created', (n) => `${n}, CONCAT('customer ', ${n}), CONCAT('c', ${n}, '@example.org'), CHAR(65 + ${n} % 26, 65 + ${n} % 7), DATE_ADD('2024-01-01', INTERVAL ${n} % 31536000 SECOND)`),
    ...fill('orders', s.orders, 'id, customer_id, status, amount, created, note', (n) => `${n}, 1 + (${n} * 7919) % ${s.customers}, ${n} % 5, ((${n} * 37) % 100000) / 100, DATE_ADD('2024-01-01', INTERVAL (${n} * 13) % 31536000 SECOND), CONCAT('order ', ${n}, ' for ', (${n} * 7919) % ${s.customers})`),
    ...fill(
      'wide',
      s.wide,
      `id, ${wideCols.join(', ')}, ${wideInts.join(', ')}, body`,
      (n) => `${n}, ${wideCols.map((_, i) => `CONCAT('v${i}-', ${n} * ${i + 3})`).join(', ')}, ${wideInts.map((_, i) => `(${n} * ${i + 11}) % 100003`).join(', ')}, REPEAT(CONCAT('body ', ${n}, ' '), 8)`,
    ),
    // 80% of rows share one key: a secondary index with one huge value.
    ...fill('skewed', s.skewed, 'id, k, v', (n) => `${n}, CASE WHEN ${n} % 10 < 8 THEN 1 ELSE ${n} % 1000 END, CONCAT('skewed ', ${n})`),
    'DROP TABLE bench.digits',
    'DROP TABLE bench.nums',
  ];
}

export type WorkloadKind = 'batch' | 'oltp';

/** OLTP: small transactions (one updated order, one inserted row), as sysbench writes them; 220,000 row events. */
const OLTP_TRANSACTIONS = 110_000;

/** Transactions and row events of a whole workload. */
export function workloadShape(s: SizeSpec, kind: WorkloadKind): { transactions: number; rowEvents: number } {
  return kind === 'batch' ? { transactions: s.transactions, rowEvents: s.transactions * 101 } : { transactions: OLTP_TRANSACTIONS, rowEvents: OLTP_TRANSACTIONS * 2 };
}

/**
 * What one workload transaction writes, for transaction number `i`: the batch workload
 * updates 100 consecutive orders (wrapping within the table), the OLTP one a single order;
 * both insert one skewed row.
 */
function transactionBody(s: SizeSpec, kind: WorkloadKind): string {
  const update =
    kind === 'batch'
      ? `UPDATE bench.orders SET amount = amount + 1, status = (status + 1) % 5 WHERE id BETWEEN (i * 100) % ${s.orders} + 1 AND (i * 100) % ${s.orders} + 100`
      : `UPDATE bench.orders SET amount = amount + 1, status = (status + 1) % 5 WHERE id = 1 + (i * 7919) % ${s.orders}`;
  return `${update};
    INSERT INTO bench.skewed (id, k, v) VALUES (${s.skewed} + i + 1, i % 7, CONCAT('${kind === 'batch' ? 'workload' : 'oltp'} ', i));`;
}

/**
 * The workload's transactions numbered `from` (inclusive) to `to` (exclusive), one per loop
 * iteration in a stored procedure: running [0, a) then [a, n) writes exactly what [0, n)
 * writes, so the binlog-volume series can stop at intermediate points of one workload.
 */
export function workloadSql(s: SizeSpec, kind: WorkloadKind, from = 0, to = workloadShape(s, kind).transactions): string[] {
  return [
    'DROP PROCEDURE IF EXISTS bench.workload',
    `CREATE PROCEDURE bench.workload(first INT, upto INT)
BEGIN
  DECLARE i INT DEFAULT first;
  WHILE i < upto DO
    START TRANSACTION;
    ${transactionBody(s, kind)}
    COMMIT;
    SET i = i + 1;
  END WHILE;
END`,
    `CALL bench.workload(${from}, ${to})`,
  ];
}
