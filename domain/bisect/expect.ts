/**
 * What a bisect's consistency query must return to pass, as an operator writes it
 * (`--expect zero|nonzero|<value>`), as an assertion's expectation (domain/checks/assertions.ts).
 */
import type { AssertionExpect } from '../checks/assertions';
import { DrillError, DrillErrorTypes } from '../errors';

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** `zero`, `nonzero`, a number (compared numerically: 42 matches 42.00) or any other text (compared exactly). */
export function parseExpectation(text: string): AssertionExpect {
  const t = text.trim();
  if (t === '') throw new DrillError(DrillErrorTypes.BadConfig, '--expect is empty: give zero, nonzero or the value the query returns when the data is consistent');
  if (t === 'zero' || t === 'nonzero') return t;
  // Beyond 2^53 a number loses precision: compared as its text instead.
  if (NUMBER.test(t) && Math.abs(Number(t)) <= Number.MAX_SAFE_INTEGER) return Number(t);
  return { equals: t };
}

/** The expectation in words, as the answer prints it. */
export function describeExpectation(e: AssertionExpect): string {
  if (e === 'zero') return '0';
  if (e === 'nonzero') return 'a non-zero number';
  if (e !== null && typeof e === 'object') return JSON.stringify(e.equals);
  return JSON.stringify(e);
}

/** A consistency query must read, never write: the sandbox's state is what is being searched. */
export function assertReadOnlyQuery(sql: string): void {
  if (!/^\s*(?:\(\s*)*(?:SELECT|WITH|VALUES|TABLE)\b/i.test(sql))
    throw new DrillError(DrillErrorTypes.BadConfig, `--query must be one read-only query (SELECT, WITH, VALUES or TABLE), got: ${sql.slice(0, 200)}`);
}
