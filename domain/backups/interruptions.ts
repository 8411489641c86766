/**
 * What interrupted a backup, read from the backup tool's own words (mysqldump / mariadb-dump /
 * mariabackup stderr, the error of a CLONE statement): the source closed its connection, DDL
 * changed a table it was copying, or it waited too long for a lock. Those are the source's bad
 * days, not a broken backup: the drill takes the backup again under a fresh name
 * (workflows/drill/backup-attempts.ts). Anything else stays ToolFailed. Pure.
 */
import { DrillError, DrillErrorTypes } from '../errors';
import type { DrillErrorType } from '../errors';

export type BackupInterruptionType = typeof DrillErrorTypes.SourceConnectionLost | typeof DrillErrorTypes.DdlDuringBackup | typeof DrillErrorTypes.LockWaitTimeout;

export interface BackupInterruption {
  type: BackupInterruptionType;
  /** The server or client error number the tool printed, when it printed one. */
  code?: number;
  /** The table the tool was copying, as it named it (`db.table` when it said the database). */
  table?: string;
  /** The row the dump had reached in that table (mysqldump's "at row: N"). */
  row?: number;
  /** The tool's line that says it, trimmed. */
  line: string;
}

interface Kind {
  type: BackupInterruptionType;
  /** Error numbers of this kind, in the forms the tools print them ("Error 2013:", "ERROR 2013 (HY000)", "…: text (2013)", "Got error: 2013:"). */
  codes: number[];
  /** The error texts (client library, server, mariabackup), for lines that carry no number. */
  texts: RegExp[];
}

const KINDS: Kind[] = [
  {
    type: DrillErrorTypes.SourceConnectionLost,
    // 2013 lost connection, 2006 gone away, 1927 MariaDB's "Connection was killed", 1053 shutdown,
    // 2002/2003 cannot connect (the source is restarting), 4031 MySQL's disconnect of an idle client.
    codes: [2013, 2006, 1927, 1053, 2002, 2003, 4031],
    texts: [/Lost connection to (?:MySQL )?server/i, /server has gone away/i, /Connection was killed/i, /Server shutdown in progress/i, /Can't connect to (?:local )?(?:MySQL )?server/i, /Failed to connect to MariaDB server/i],
  },
  {
    type: DrillErrorTypes.DdlDuringBackup,
    // 1412: the table was re-created (TRUNCATE, ALTER … COPY) after the dump's snapshot began;
    // 1146: dropped or renamed between the dump listing it and reading it.
    codes: [1412, 1146],
    texts: [/Table definition has changed/i, /Table '[^']+' doesn't exist/i, /DDL operation detected/i],
  },
  {
    type: DrillErrorTypes.LockWaitTimeout,
    codes: [1205],
    texts: [/Lock wait timeout exceeded/i],
  },
];

function codePattern(code: number): RegExp {
  // "(N)" only after a quoted statement, as "Couldn't execute '…': text (N)" prints it: mariabackup prints LSNs in parentheses.
  return new RegExp(`(?:Error:? ${code}\\b|': [^\\n]*\\(${code}\\)\\s*$|Got error: ${code}\\b)`, 'im');
}

/** The earliest interruption `text` reports (the first error is the cause; later ones follow from it). */
export function findBackupInterruption(text: string): BackupInterruption | undefined {
  let best: { index: number; kind: Kind } | undefined;
  for (const kind of KINDS) {
    for (const re of [...kind.codes.map(codePattern), ...kind.texts]) {
      const m = re.exec(text);
      if (m && (best === undefined || m.index < best.index)) best = { index: m.index, kind };
    }
  }
  if (!best) return undefined;
  const lineStart = text.lastIndexOf('\n', best.index) + 1;
  const lineEnd = text.indexOf('\n', best.index);
  const line = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).trim().slice(0, 400);
  const code = best.kind.codes.find((c) => codePattern(c).test(line));
  return { type: best.kind.type, ...(code === undefined ? {} : { code }), ...tableOf(line) };
}

/** The table (and row) a tool's error line names, in the forms mysqldump and mariabackup use. */
function tableOf(line: string): Pick<BackupInterruption, 'table' | 'row' | 'line'> {
  const dumping = /when dumping table `((?:[^`]|``)+)` at row: (\d+)/.exec(line);
  if (dumping) return { line, table: dumping[1]!.replace(/``/g, '`'), row: Number(dumping[2]) };
  const missing = /Table '([^']+)' doesn't exist/.exec(line);
  if (missing) return { line, table: missing[1] };
  // "Couldn't execute 'SHOW CREATE TABLE `t`'", "… 'SELECT … FROM `db`.`t`'", mariabackup "… on `db`.`t`".
  const named = /(?:FROM|TABLE|TABLES|\bon) `((?:[^`]|``)+)`(?:\.`((?:[^`]|``)+)`)?/i.exec(line);
  if (named) return { line, table: (named[2] ? `${named[1]}.${named[2]}` : named[1]!).replace(/``/g, '`') };
  return { line };
}

/** What a DBA should look at, per kind. */
const ADVICE: Record<BackupInterruptionType, string> = {
  SourceConnectionLost:
    'Something on the source side ended the session: a KILL, a server restart or crash (the OOM killer), a proxy, or a timeout (net_write_timeout, wait_timeout). Look at the source error log and its Uptime at the time of the backup.',
  DdlDuringBackup:
    'A TRUNCATE, ALTER, DROP, RENAME or OPTIMIZE ran on it while the backup was copying the databases; --single-transaction does not hold tables against DDL. Find who ran it (binlog, general or audit log at the time of the backup) and schedule DDL outside the drill window.',
  LockWaitTimeout:
    'Another session held a lock the backup needed for longer than lock_wait_timeout / innodb_lock_wait_timeout: a long transaction, or DDL queued behind one. Look at information_schema.INNODB_TRX and SHOW PROCESSLIST on the source at the time of the backup.',
};

const WHAT: Record<BackupInterruptionType, string> = {
  SourceConnectionLost: 'lost its connection to the source',
  DdlDuringBackup: 'was broken by DDL',
  LockWaitTimeout: 'gave up waiting for a lock',
};

export function describeInterruption(tool: string, source: string, i: BackupInterruption): string {
  const where = i.table === undefined ? '' : ` ${i.type === DrillErrorTypes.DdlDuringBackup ? 'on' : 'while copying'} table ${i.table}${i.row === undefined ? '' : ` at row ${i.row}`}`;
  return `${tool} of source ${source} ${WHAT[i.type]}${where} ("${i.line}"). ${ADVICE[i.type]}`;
}

/**
 * The typed failure of a backup tool that did not succeed: an interruption worth another
 * attempt when its output says so, else ToolFailed with `otherwise` (the tool's exit and output).
 */
export function backupToolFailure(f: { tool: string; source: string; output: string; exitCode?: number; otherwise: string; cause?: unknown }): DrillError {
  const found = findBackupInterruption(f.output);
  const details = { tool: f.tool, ...(f.exitCode === undefined ? {} : { exitCode: f.exitCode }) };
  if (!found) return new DrillError(DrillErrorTypes.ToolFailed, f.otherwise, { details, cause: f.cause });
  const type: DrillErrorType = found.type;
  return new DrillError(type, describeInterruption(f.tool, f.source, found), {
    details: { ...details, ...(found.code === undefined ? {} : { code: found.code }), ...(found.table === undefined ? {} : { table: found.table }), ...(found.row === undefined ? {} : { row: found.row }) },
    cause: f.cause,
  });
}
