/**
 * User SQL assertions: read-only queries with an expected answer, run on the restored
 * sandbox after the checksums ("every order has a customer", "yesterday had sales").
 *
 * Config shape (YAML):
 *   assertions:
 *     - name: orders-have-customers
 *       sql: SELECT COUNT(*) FROM shop.orders o LEFT JOIN shop.customers c ON c.id = o.customer_id WHERE c.id IS NULL
 *       expect: zero
 *     - name: eur-rate
 *       sql: SELECT rate FROM fx.rates WHERE code = 'EUR'
 *       expect: 1.0842
 *
 * `expect` is one of:
 *   - `zero` / `nonzero`: one row, one column, numerically 0 / numeric and not 0 (NULL fails both);
 *   - `rows` / `empty`: at least one row / no rows;
 *   - a number: one row, one column, numerically equal (`42` matches DECIMAL `42.00`);
 *   - a string: one row, one column, whose text is exactly that string;
 *   - `true` / `false`: one value equal to 1 / 0 (what MySQL returns for conditions);
 *   - `null`: one value that is NULL;
 *   - `{ equals: <value> }`: the literal value, for strings that are keywords (`{ equals: rows }`).
 * Numbers beyond 2^53 lose precision in YAML and JavaScript: write them as strings.
 *
 * Run the queries with mysql2 options `supportBigNumbers: true, bigNumberStrings: true,
 * dateStrings: true`: BIGINT and DECIMAL then arrive as exact strings and DATE/DATETIME as
 * the server's text (`2026-11-21`), not as a Date shifted by the worker's time zone.
 * Verified with mysql2 against MariaDB 10.11 and MySQL 9.7 (BIGINT UNSIGNED max, SUM of
 * DECIMAL, utf8mb4 text, empty BLOB, EXISTS, NULL, DATE).
 *
 * Pure module (zod only).
 */

import { z } from 'zod';
import type { CheckResult } from './results';

export const ASSERTION_KEYWORDS = ['zero', 'nonzero', 'rows', 'empty'] as const;
export type AssertionKeyword = (typeof ASSERTION_KEYWORDS)[number];

const ScalarSchema = z.union([z.number().finite(), z.string(), z.boolean(), z.null()]);
export type AssertionScalar = z.infer<typeof ScalarSchema>;

export const AssertionExpectSchema = z.union([
  z.enum(ASSERTION_KEYWORDS),
  ScalarSchema,
  z.strictObject({ equals: ScalarSchema }),
]);
export type AssertionExpect = z.infer<typeof AssertionExpectSchema>;

/** Statements an assertion may start with: it reads, it never writes. */
const READ_ONLY_START = /^\s*(?:\(\s*)*(?:SELECT|WITH|SHOW|VALUES|TABLE)\b/i;

export const AssertionSpecSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'use 1-100 characters of letters, digits, ".", "-" or "_"'),
  sql: z
    .string()
    .min(1)
    .refine((s) => READ_ONLY_START.test(s), 'an assertion is a single read-only query (SELECT, WITH, SHOW, VALUES or TABLE)'),
  expect: AssertionExpectSchema,
});
export type AssertionSpec = z.infer<typeof AssertionSpecSchema>;

/** A result row as mysql2 returns it: an object keyed by column (default) or an array (`rowsAsArray`). */
export type ResultRow = Readonly<Record<string, unknown>> | readonly unknown[];

function rowValues(row: ResultRow): unknown[] {
  return Array.isArray(row) ? [...row] : Object.values(row);
}

function isKeyword(e: AssertionExpect): e is AssertionKeyword {
  return typeof e === 'string' && (ASSERTION_KEYWORDS as readonly string[]).includes(e);
}

function bytesOf(v: Uint8Array): number[] {
  return Array.from(v);
}

function utf8(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return out;
}

/** How a returned value is shown in a report. */
export function displayValue(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (v instanceof Uint8Array) {
    const b = bytesOf(v);
    return b.every((x) => x >= 0x20 && x < 0x7f)
      ? String.fromCharCode(...b)
      : '0x' + b.map((x) => x.toString(16).padStart(2, '0')).join('');
  }
  return JSON.stringify(v) ?? String(v);
}

/** The numeric value of a returned value, or undefined when it is not a number. */
function numericValue(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

function scalarMatches(expected: AssertionScalar, actual: unknown): boolean {
  if (expected === null) return actual === null || actual === undefined;
  if (actual === null || actual === undefined) return false;
  if (typeof expected === 'number') return numericValue(actual) === expected;
  if (typeof expected === 'boolean') return numericValue(actual) === (expected ? 1 : 0);
  // A string: exact text; binary results compare as their bytes against the UTF-8 of the string.
  if (actual instanceof Uint8Array) {
    const a = bytesOf(actual);
    const e = utf8(expected);
    return a.length === e.length && a.every((x, i) => x === e[i]);
  }
  if (actual instanceof Date) return actual.toISOString() === expected;
  return displayValue(actual) === expected;
}

function describeExpected(expect: AssertionExpect): string {
  if (isKeyword(expect)) {
    return { zero: '0', nonzero: 'a non-zero number', rows: 'at least one row', empty: 'no rows' }[expect];
  }
  if (expect !== null && typeof expect === 'object') return displayValue(expect.equals);
  return displayValue(expect);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Evaluates an assertion's rows into a check result: kind `assertion`, name
 * `assertion:<name>`, target the assertion's name; failures quote the SQL.
 */
export function assertionResult(
  name: string,
  sql: string,
  expected: AssertionExpect,
  actualRows: readonly ResultRow[],
): CheckResult {
  const base = { name: `assertion:${name}`, kind: 'assertion' as const, target: name, expected: describeExpected(expected) };
  const fail = (actual: string, why: string): CheckResult => ({
    ...base,
    passed: false,
    actual,
    message: `Assertion ${name} failed: ${why}. Query: ${sql}`,
  });

  if (expected === 'rows' || expected === 'empty') {
    const n = actualRows.length;
    const passed = expected === 'rows' ? n > 0 : n === 0;
    const actual = plural(n, 'row');
    return passed ? { ...base, passed, actual } : fail(actual, `expected ${base.expected}, got ${actual}`);
  }

  // Everything else needs exactly one value.
  if (actualRows.length !== 1) {
    const actual = plural(actualRows.length, 'row');
    return fail(actual, `expected exactly one row with one column, got ${actual}`);
  }
  const values = rowValues(actualRows[0] as ResultRow);
  if (values.length !== 1) {
    const actual = plural(values.length, 'column');
    return fail(actual, `expected exactly one column, got ${actual}`);
  }
  const value = values[0];
  const actual = displayValue(value);

  let passed: boolean;
  if (expected === 'zero') passed = numericValue(value) === 0;
  else if (expected === 'nonzero') {
    const n = numericValue(value);
    passed = n !== undefined && n !== 0;
  } else if (expected !== null && typeof expected === 'object') passed = scalarMatches(expected.equals, value);
  else passed = scalarMatches(expected, value);

  return passed ? { ...base, passed, actual } : fail(actual, `expected ${base.expected}, got ${actual}`);
}

/** {@link assertionResult} for a parsed spec. */
export function evaluateAssertion(spec: AssertionSpec, actualRows: readonly ResultRow[]): CheckResult {
  return assertionResult(spec.name, spec.sql, spec.expect, actualRows);
}

/** A failed result for an assertion whose query itself failed (syntax error, missing table). */
export function assertionErrorResult(spec: Pick<AssertionSpec, 'name' | 'sql'>, error: string): CheckResult {
  return {
    name: `assertion:${spec.name}`,
    kind: 'assertion',
    target: spec.name,
    passed: false,
    actual: `error: ${error}`,
    message: `Assertion ${spec.name} could not run: ${error}. Query: ${spec.sql}`,
  };
}
