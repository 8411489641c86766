/**
 * Loads one row chunk of the parallel restore on one session: consecutive INSERTs that scan or
 * convert (domain/dump/insert-scan.ts, insert-convert.ts) go out as one LOAD DATA LOCAL stream;
 * anything else (settings, USE, an INSERT the converter does not understand) runs as it is,
 * after the rows before it.
 */
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import type { SqlSession } from '../../adapters/mysql';
import { isEngineMixDeprecation } from '../../domain/backups/non-transactional';
import { convertInsert } from '../../domain/dump/insert-convert';
import { countInsertRows } from '../../domain/dump/insert-rows';
import { scanInsert } from '../../domain/dump/insert-scan';
import { loadDataStatement } from '../../domain/dump/load-data-statement';
import type { LoadColumn } from '../../domain/dump/load-data-statement';
import { statementBuffers } from '../../domain/dump/splitter';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { columnsSql } from '../../domain/sql';
import type { ColumnRow } from '../../domain/sql';
import type { ActivityDeps } from '../deps';
import type { SandboxHandle } from '../types';

const NL = Buffer.from('\n');

/** Connection character sets whose text the converter passes through. */
const UTF8_NAMES = new Set(['utf8mb4', 'utf8mb3', 'utf8']);

const TABLE_COLUMNS_SQL = columnsSql({ oneTable: true });

/** Session state a chunk's own statements set, which decides whether its INSERTs may be converted. */
interface ChunkSession {
  db?: string;
  names: string;
  noBackslashEscapes: boolean;
  /** Statements run so far (settings, USE), replayed first when an INSERT goes through the client. */
  settings: Buffer[];
}

function track(state: ChunkSession, statement: Buffer): void {
  const text = statement.toString('utf8', 0, Math.min(statement.length, 400));
  const use = /^USE `((?:[^`]|``)+)`/.exec(text);
  if (use) state.db = use[1].replace(/``/g, '`');
  const names = /\bSET NAMES\s+'?(\w+)/i.exec(text);
  if (names) state.names = names[1].toLowerCase();
  const mode = /\bSQL_MODE\s*=\s*'([^']*)'/i.exec(text);
  if (mode) state.noBackslashEscapes = /NO_BACKSLASH_ESCAPES/i.test(mode[1]);
  state.settings.push(statement);
}

const startsWithInsert = (statement: Buffer): boolean => statement.length > 7 && statement.toString('latin1', 0, 7).toUpperCase() === 'INSERT ';

function addRows(counts: ChunkCounts, table: string, rows: number): void {
  counts.rowsLoaded[table] = (counts.rowsLoaded[table] ?? 0) + rows;
}

export const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What a chunk loaded, added to the restore's totals. */
export interface ChunkCounts {
  /** Rows loaded through LOAD DATA; of them, those whose VALUES list went to the server as dumped. */
  loadDataRows: number;
  unchangedRows: number;
  /** INSERT statements run as they are. */
  insertStatements: number;
  /** Rows the dump's INSERTs put into each table (`db.table`), counted as they load: compared with COUNT(*) after the restore. */
  rowsLoaded: Record<string, number>;
}

/** What the chunk loader needs from the restore it is part of. */
export interface ChunkLoaderContext {
  deps: ActivityDeps;
  sandbox: SandboxHandle;
  /** The server's own client in the sandbox, for statements the driver cannot send. */
  client: string[];
  signal?: AbortSignal;
  /** True once any piece of the restore failed: the chunk stops. */
  failed(): boolean;
  fail(error: DrillError): void;
  counts: ChunkCounts;
}

/** Column character sets and generated columns of each table, read once after its DDL ran. */
export class TableColumns {
  private readonly byTable = new Map<string, Promise<LoadColumn[]>>();

  of(session: SqlSession, db: string, table: string): Promise<LoadColumn[]> {
    const key = `${db}.${table}`;
    let columns = this.byTable.get(key);
    if (!columns) {
      columns = session
        .query<ColumnRow>(TABLE_COLUMNS_SQL, [[db], table])
        .then((rows) => rows.map((r) => ({ name: r.column_name, charset: r.charset, dataType: r.data_type, generated: r.generation !== '' })));
      this.byTable.set(key, columns);
    }
    return columns;
  }
}

/**
 * One chunk of `table`'s rows. LOAD DATA LOCAL turns errors into warnings, so a load that is
 * short of rows or warns fails the chunk instead of passing silently.
 */
export async function loadChunk(ctx: ChunkLoaderContext, columns: TableColumns, session: SqlSession, chunk: { table: string; sql: Buffer; number: number }): Promise<void> {
  const { deps, sandbox, signal } = ctx;
  const state: ChunkSession = { names: 'utf8mb4', noBackslashEscapes: false, settings: [] };
  let pending: { sql: string; table: string; data: Buffer[]; rows: number; unchanged: boolean } | undefined;
  const fail = (message: string, err?: unknown) =>
    ctx.fail(
      new DrillError(DrillErrorTypes.ToolFailed, `parallel restore of chunk ${chunk.number} of ${chunk.table} in sandbox ${sandbox.name} failed: ${message.slice(0, 1200)}`, {
        details: { kind: 'chunk', table: chunk.table, chunk: chunk.number },
        cause: err,
      }),
    );
  const flush = async () => {
    if (!pending || ctx.failed()) return;
    const load = pending;
    pending = undefined;
    const outcome = await session.loadLocal(load.sql, load.data);
    if (outcome.affectedRows !== load.rows || outcome.warnings > 0) {
      const warnings = await session.query<{ Message: string }>('SHOW WARNINGS LIMIT 3').catch(() => []);
      const allLoaded = outcome.affectedRows === load.rows && warnings.length === outcome.warnings;
      if (!allLoaded || !warnings.every((w) => isEngineMixDeprecation(w.Message)))
        return fail(
          `LOAD DATA into ${load.table} loaded ${outcome.affectedRows} of ${load.rows} rows with ${outcome.warnings} warning(s)${warnings.length ? `: ${warnings.map((w) => w.Message).join('; ')}` : ''}; ` +
            "restoreMethod 'client' loads the dump's INSERT statements as they are",
        );
    }
    ctx.counts.loadDataRows += load.rows;
    if (load.unchanged) ctx.counts.unchangedRows += load.rows;
    addRows(ctx.counts, load.table, load.rows);
  };
  const runAsIs = async (statement: Buffer) => {
    // After SET NAMES binary (mydumper's data files) the driver follows the server's
    // character_set_client and writes query text as latin1: latin1 text is the bytes as they are.
    if (state.names === 'binary') {
      await session.query(statement.toString('latin1'));
      return;
    }
    // Text that is not UTF-8 cannot go through the driver (it sends strings): the server's own client takes the bytes.
    if (isUtf8(statement)) {
      await session.query(statement.toString('utf8'));
      return;
    }
    const result = await deps.runtime.exec(sandbox.name, ctx.client, { stdin: Readable.from([Buffer.concat(state.settings.flatMap((st) => [st, NL])), statement, NL]), env: ['TZ=UTC'], signal });
    if (result.exitCode !== 0) throw new Error(`client exit ${result.exitCode}: ${result.stderr.trim().slice(-1000)}`);
  };
  try {
    for (const statement of statementBuffers(chunk.sql)) {
      if (ctx.failed() || signal?.aborted) return;
      // One event loop serves every session's LOAD DATA stream: converting a whole chunk at
      // once would leave the other sessions' servers waiting for their next packet.
      await yieldToIo();
      if (startsWithInsert(statement)) {
        // The VALUES list as dumped where LOAD DATA reads it the same; else rewritten as tab-separated rows.
        const converted = UTF8_NAMES.has(state.names) && !state.noBackslashEscapes ? (scanInsert(statement) ?? convertInsert(statement)) : undefined;
        const db = converted?.database ?? state.db;
        if (converted && db !== undefined) {
          const plan = loadDataStatement(converted, await columns.of(session, db, converted.table));
          if ('sql' in plan) {
            if (pending && pending.sql !== plan.sql) await flush();
            pending ??= { sql: plan.sql, table: `${db}.${converted.table}`, data: [], rows: 0, unchanged: converted.format === 'values' };
            pending.data.push(converted.data);
            pending.rows += converted.rows;
            continue;
          }
        }
        await flush();
        ctx.counts.insertStatements++;
        await runAsIs(statement);
        const counted = countInsertRows(statement, !state.noBackslashEscapes);
        if (counted) addRows(ctx.counts, `${counted.database ?? state.db ?? ''}.${counted.table}`, counted.rows);
        continue;
      }
      await flush();
      await runAsIs(statement);
      track(state, statement);
    }
    await flush();
  } catch (err) {
    fail((err as Error).message, err);
  }
}
