/** The MySQL/MariaDB connection adapter (mysql2), reached only through a unix socket or 127.0.0.1. */
import { Readable } from 'node:stream';
import mysql from 'mysql2/promise';
import { DrillError, DrillErrorTypes } from '../domain/errors';

export interface Endpoint {
  socket?: string;
  host?: string;
  port?: number;
}

export interface Credentials {
  user: string;
  password?: string;
}

export interface LoadOutcome {
  affectedRows: number;
  warnings: number;
}

export interface SqlSession {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * Runs a `LOAD DATA LOCAL INFILE` statement, sending `data` as the file, whatever name the
   * statement gives (the server must allow local_infile).
   */
  loadLocal(sql: string, data: Buffer[]): Promise<LoadOutcome>;
  close(): Promise<void>;
}

/** The client sends each buffer as one protocol packet; packets stay well under 16 MB. */
const LOCAL_PACKET_BYTES = 1 << 20;

function* packets(data: Buffer[]): Generator<Buffer> {
  for (const buf of data) for (let i = 0; i < buf.length; i += LOCAL_PACKET_BYTES) yield buf.subarray(i, i + LOCAL_PACKET_BYTES);
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ER_CON_COUNT_ERROR', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

export function describeEndpoint(e: Endpoint): string {
  return e.socket ? `unix socket ${e.socket}` : `${e.host}:${e.port ?? 3306}`;
}

/** Turns a driver error into a DrillError that says whether a retry can help. */
export function sqlFailure(endpoint: Endpoint, err: unknown, what = 'query'): DrillError {
  const code = (err as { code?: string })?.code ?? '';
  const message = `${what} on ${describeEndpoint(endpoint)} failed: ${(err as Error)?.message ?? String(err)}`;
  if (TRANSIENT_CODES.has(code)) return new DrillError(DrillErrorTypes.Transient, message, { cause: err, details: { code } });
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || code === 'ER_TABLEACCESS_DENIED_ERROR')
    return new DrillError(DrillErrorTypes.BadConfig, `${message}; check the user and its grants (see README: source privileges)`, { cause: err, details: { code } });
  return new DrillError(DrillErrorTypes.ToolFailed, message, { cause: err, details: { code } });
}

function assertLocal(endpoint: Endpoint): void {
  if (endpoint.socket) return;
  // The engine talks to servers through sockets or loopback only (README: network rule).
  if (endpoint.host && !/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(endpoint.host) && process.env.RESTORE_DRILL_ALLOW_REMOTE_SOURCES !== '1')
    throw new DrillError(DrillErrorTypes.BadConfig, `source host ${endpoint.host} is not local; set RESTORE_DRILL_ALLOW_REMOTE_SOURCES=1 to allow remote sources`);
}

export async function openSession(endpoint: Endpoint, credentials: Credentials, database?: string): Promise<SqlSession> {
  assertLocal(endpoint);
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({
      socketPath: endpoint.socket,
      host: endpoint.socket ? undefined : endpoint.host,
      port: endpoint.socket ? undefined : endpoint.port,
      user: credentials.user,
      password: credentials.password,
      database,
      charset: 'utf8mb4',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectTimeout: 10_000,
    });
  } catch (err) {
    throw sqlFailure(endpoint, err, 'connection');
  }
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      try {
        const [rows] = await conn.query(sql, params);
        return rows as T[];
      } catch (err) {
        throw sqlFailure(endpoint, err);
      }
    },
    async loadLocal(sql: string, data: Buffer[]): Promise<LoadOutcome> {
      try {
        const [result] = await conn.query({ sql, infileStreamFactory: () => Readable.from(packets(data)) });
        const header = result as mysql.ResultSetHeader;
        return { affectedRows: header.affectedRows, warnings: header.warningStatus };
      } catch (err) {
        throw sqlFailure(endpoint, err, 'LOAD DATA LOCAL');
      }
    },
    async close() {
      await conn.end().catch(() => conn.destroy());
    },
  };
}

export async function withSession<T>(endpoint: Endpoint, credentials: Credentials, fn: (s: SqlSession) => Promise<T>): Promise<T> {
  const session = await openSession(endpoint, credentials);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/**
 * Opens `count` sessions on one endpoint and closes every one of them afterwards, also when
 * opening one of them or `fn` fails.
 */
export async function withSessions<T>(endpoint: Endpoint, credentials: Credentials, count: number, fn: (sessions: SqlSession[]) => Promise<T>): Promise<T> {
  const opened = await Promise.allSettled(Array.from({ length: Math.max(1, count) }, () => openSession(endpoint, credentials)));
  const sessions = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  try {
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return await fn(sessions);
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
}

/**
 * Runs `work` on every item, each session taking the next item as soon as it is free, in the
 * items' order (put the longest first). Results come back in the items' order. The first
 * failure (or an abort) stops handing out items; it is thrown once the items already running
 * have finished, so no session is closed under a running query.
 */
export async function runOnSessions<S, I, R>(sessions: readonly S[], items: readonly I[], work: (session: S, item: I) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  if (sessions.length === 0 && items.length > 0) throw new Error('runOnSessions needs at least one session');
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (session: S) => {
    while (!failure && next < items.length) {
      if (signal?.aborted) {
        failure = { error: signal.reason ?? new Error('aborted') };
        return;
      }
      const i = next++;
      try {
        results[i] = await work(session, items[i]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(sessions.map(worker));
  if (failure) throw failure.error;
  return results;
}

/** Polls with a real query until the server answers or the deadline passes. */
export async function waitUntilAnswering(endpoint: Endpoint, credentials: Credentials, timeoutMs: number, onWait?: (attempt: number, lastError: string) => void | Promise<void>, pollMs?: number): Promise<number> {
  const started = Date.now();
  let attempt = 0;
  let lastError = '';
  for (;;) {
    attempt += 1;
    try {
      await withSession(endpoint, credentials, (s) => s.query('SELECT 1 AS ok'));
      return Date.now() - started;
    } catch (err) {
      lastError = (err as Error).message;
      if ((err as DrillError).type === DrillErrorTypes.BadConfig && Date.now() - started > 5_000) throw err;
    }
    if (Date.now() - started > timeoutMs)
      throw new DrillError(DrillErrorTypes.SandboxNotReady, `server on ${describeEndpoint(endpoint)} did not answer within ${Math.round(timeoutMs / 1000)} s: ${lastError}`);
    await onWait?.(attempt, lastError);
    await new Promise((r) => setTimeout(r, pollMs ?? Math.min(100 * attempt, 500)));
  }
}
