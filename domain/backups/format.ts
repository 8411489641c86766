/**
 * Recognises a team's existing backup by its content, never by its name: a mysqldump or
 * mariadb-dump SQL file, a mydumper directory, or a mariabackup / Percona XtraBackup backup
 * (a directory, a tar, or an xbstream), each possibly compressed.
 *
 * Pure: callers read the first bytes (BACKUP_HEAD_BYTES) of a file, decompress them when
 * {@link detectCompression} says so, and pass the inner bytes to {@link detectPayload}; for a
 * directory they pass the file names and the contents of its small metadata files.
 */
import { parseDumpHead } from '../dump/format';
import { DrillError, DrillErrorTypes } from '../errors';
import type { Flavor } from '../types';

/** How much of a file (and of its decompressed stream) callers read for detection. */
export const BACKUP_HEAD_BYTES = 64 * 1024;

export type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';
export type BackupKind = 'logical-dump' | 'mydumper' | 'mariabackup' | 'xtrabackup';
export type BackupContainer = 'file' | 'tar' | 'xbstream' | 'directory';
export type BackupTool = 'mysqldump' | 'mariadb-dump' | 'mydumper' | 'mariabackup' | 'xtrabackup' | 'unknown';

/** Which databases a logical backup holds, as far as what was read shows. */
export type DumpScope =
  /** A dump of one database without CREATE DATABASE / USE (`mysqldump shop`). */
  | { kind: 'one-database'; database?: string }
  /** `--databases a b`: `seen` lists those the head (or the directory) shows. */
  | { kind: 'databases'; seen: string[] }
  /** `--all-databases`, the `mysql` system schema included. */
  | { kind: 'all-databases'; seen: string[] }
  | { kind: 'unknown'; reason: string; seen: string[] };

/** Physical backups: what `xtrabackup_checkpoints` says. */
export interface PhysicalState {
  /** `full-backuped`, `full-prepared`, `log-applied`, `incremental`. */
  backupType: string;
  /** Redo already applied (`--prepare` ran): the files are a consistent datadir. */
  prepared: boolean;
  incremental: boolean;
}

export interface BackupFormat {
  kind: BackupKind;
  /** Of the file itself; a directory is 'none'. */
  compression: Compression;
  container: BackupContainer;
  tool: BackupTool;
  toolVersion?: string;
  serverVersion?: string;
  flavor: Flavor | 'unknown';
  /** Logical backups only. */
  scope?: DumpScope;
  /** Physical backups, when the checkpoints file was seen. */
  physical?: PhysicalState;
  /** Compression of the members themselves (mydumper `-c`, `.sql.zst`). */
  memberCompression?: Compression;
}

/** A file of a backup directory or a member of a tar/xbstream; `content` when it is small and was read. */
export interface BackupMember {
  path: string;
  content?: string;
}

const MAGIC: ReadonlyArray<[Compression, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]], // "BZh" then the block size digit
];

/** Signatures of formats we recognise only to name them in a refusal. */
const FOREIGN: ReadonlyArray<[string, number[]]> = [
  ['a zip archive', [0x50, 0x4b, 0x03, 0x04]],
  ['an lz4 frame', [0x04, 0x22, 0x4d, 0x18]],
  ['a qpress archive', [...'qpress10'].map((c) => c.charCodeAt(0))],
  ['an xbcrypt (encrypted XtraBackup) stream', [...'XBCRYPT'].map((c) => c.charCodeAt(0))],
  ['a 7z archive', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
];

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  return bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}

/** The compression of a file, by its magic bytes. */
export function detectCompression(head: Uint8Array): Compression {
  for (const [name, magic] of MAGIC) {
    if (!startsWith(head, magic)) continue;
    if (name === 'bzip2' && !(head[3]! >= 0x31 && head[3]! <= 0x39)) continue;
    return name;
  }
  return 'none';
}

const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);
const utf8 = new TextDecoder('utf-8');

const SUPPORTED =
  'restore-drill recognises mysqldump / mariadb-dump SQL files, mydumper directories, and mariabackup or ' +
  'XtraBackup backups (directory, tar or xbstream), each optionally gzip, zstd, xz or bzip2 compressed';

/** What a file starts with, for a message: printable text, or hex when it is binary. */
export function previewBytes(head: Uint8Array, max = 48): string {
  const first = head.subarray(0, max);
  if (first.length === 0) return 'nothing (0 bytes)';
  const controls = first.some((b) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f);
  if (!controls) {
    try {
      // `stream` tolerates a character cut at the end of the preview.
      const text = new TextDecoder('utf-8', { fatal: true }).decode(first, { stream: true });
      return JSON.stringify(text.split('\n').slice(0, 2).join('\n'));
    } catch {
      // not UTF-8: binary
    }
  }
  return 'bytes ' + [...first.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

function unknownFormat(what: string, head: Uint8Array, name?: string): DrillError {
  const foreign = FOREIGN.find(([, magic]) => startsWith(head, magic));
  const starts = foreign ? `${foreign[0]} (${previewBytes(head)})` : previewBytes(head);
  return new DrillError(
    DrillErrorTypes.UnknownBackupFormat,
    `${name ?? 'the backup'} ${what}: it starts with ${starts}. ${SUPPORTED}.`,
    { details: { ...(name ? { name } : {}), head: previewBytes(head) } },
  );
}

// ---- SQL dumps -------------------------------------------------------------------------------

/** First meaningful line of a dump: its header comment, or (`--skip-comments`) its first versioned SET. */
const DUMP_START = /^(?:\uFEFF)?(?:\/\*M!999999\\- enable the sandbox mode \*\/ *\n)?(?:-- (?:MySQL|MariaDB) dump |\/\*!\d{5} SET )/;
const CURRENT_DB = /^(?:-- Current Database: `((?:[^`]|``)+)`|CREATE DATABASE (?:\/\*!32312 IF NOT EXISTS\*\/ )?`((?:[^`]|``)+)`|USE `((?:[^`]|``)+)`;)/gm;
const HOST_LINE = /^-- Host: .*?Database: ?(.*)$/m;
const TABLE_SEEN = /^(?:-- Table structure for table |CREATE TABLE |-- Dumping data for table |INSERT INTO )/m;

function dumpScope(text: string): DumpScope {
  const seen: string[] = [];
  for (const m of text.matchAll(CURRENT_DB)) {
    const db = (m[1] ?? m[2] ?? m[3] ?? '').replace(/``/g, '`');
    if (!seen.includes(db)) seen.push(db);
  }
  const host = HOST_LINE.exec(text);
  const headerDb = host?.[1]?.trim();
  // mysqldump names no database in its header with --all-databases (client/mysqldump.cc write_header).
  if (seen.includes('mysql') || headerDb === '') return { kind: 'all-databases', seen };
  if (seen.length > 0) {
    if (headerDb !== undefined) return { kind: 'databases', seen };
    return { kind: 'unknown', reason: 'CREATE DATABASE lines but no header comment (--skip-comments): --databases and --all-databases look alike until the mysql schema, which the head does not reach', seen };
  }
  if (TABLE_SEEN.test(text)) return headerDb ? { kind: 'one-database', database: headerDb } : { kind: 'one-database' };
  return { kind: 'unknown', reason: 'the head ends before the first table', seen };
}

function dumpFlavor(text: string, serverVersion?: string, toolVersion?: string): Flavor | 'unknown' {
  if (serverVersion) return /mariadb/i.test(serverVersion) ? 'mariadb' : 'mysql';
  if (/^\/\*M!999999/.test(text) || /^-- MariaDB dump /m.test(text) || /mariadb/i.test(toolVersion ?? '')) return 'mariadb';
  if (/SET @@GLOBAL\.GTID_PURGED/i.test(text)) return 'mysql';
  if (/^-- MySQL dump /m.test(text)) return 'mysql';
  return 'unknown';
}

function detectDump(text: string): Omit<BackupFormat, 'compression'> {
  const head = parseDumpHead(text, 'mysql');
  const tool: BackupTool = /^-- MariaDB dump /m.test(text) || /^\/\*M!999999/.test(text) ? 'mariadb-dump' : /^-- MySQL dump /m.test(text) ? 'mysqldump' : 'unknown';
  return {
    kind: 'logical-dump',
    container: 'file',
    tool,
    ...(head.toolVersion ? { toolVersion: head.toolVersion } : {}),
    ...(head.serverVersion ? { serverVersion: head.serverVersion } : {}),
    flavor: dumpFlavor(text, head.serverVersion, head.toolVersion),
    scope: dumpScope(text.replace(/\r\n/g, '\n')),
  };
}

// ---- containers: tar and xbstream ------------------------------------------------------------

/** Members whose header (and, when it fits, content) lies in `head`. Stops at the first block that is not a header. */
export function tarMembersInHead(head: Uint8Array): BackupMember[] {
  const out: BackupMember[] = [];
  let longName: string | undefined;
  for (let at = 0; at + 512 <= head.length; ) {
    const h = head.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break; // end-of-archive blocks
    if (!startsWith(h, [0x75, 0x73, 0x74, 0x61, 0x72], 257)) break; // "ustar"
    const field = (off: number, len: number): string => latin1(h.subarray(off, off + len)).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156]!);
    const prefix = field(345, 155);
    const body = at + 512;
    const fits = body + size <= head.length;
    const content = fits ? utf8.decode(head.subarray(body, body + size)) : undefined;
    if (type === 'L') longName = content?.replace(/\0.*$/s, ''); // GNU long name: names the next member
    else if (type === 'x') longName = content ? /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content)?.[1] : undefined; // POSIX pax header
    else {
      const path = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
      longName = undefined;
      if (type === '0' || type === '\0' || type === '5') out.push(content !== undefined && type !== '5' ? { path, content } : { path });
    }
    at = body + Math.ceil(size / 512) * 512;
  }
  return out;
}

const XBSTREAM_MAGIC = [...'XBSTCK01'].map((c) => c.charCodeAt(0));

/**
 * Members of an xbstream / mbstream whose chunks lie in `head` (same chunk layout as
 * XbstreamWalker in domain/physical/backups.ts); content when a member ends inside `head`.
 */
export function xbstreamMembersInHead(head: Uint8Array): BackupMember[] {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const parts = new Map<string, { chunks: Uint8Array[]; complete: boolean }>();
  for (let at = 0; at + 14 <= head.length && startsWith(head, XBSTREAM_MAGIC, at); ) {
    const type = String.fromCharCode(head[at + 9]!);
    const pathLen = view.getUint32(at + 10, true);
    if (at + 14 + pathLen > head.length) break;
    const path = utf8.decode(head.subarray(at + 14, at + 14 + pathLen));
    const member = parts.get(path) ?? { chunks: [], complete: false };
    parts.set(path, member);
    if (type === 'E') {
      member.complete = true;
      at += 14 + pathLen;
      continue;
    }
    if (type !== 'P' || at + 14 + pathLen + 20 > head.length) break;
    const length = Number(view.getBigUint64(at + 14 + pathLen, true));
    const body = at + 14 + pathLen + 20;
    member.chunks.push(head.subarray(body, Math.min(body + length, head.length)));
    if (body + length > head.length) break;
    at = body + length;
  }
  return [...parts].map(([path, m]) =>
    m.complete ? { path, content: utf8.decode(concat(m.chunks)) } : { path },
  );
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// ---- member names: mydumper and physical layouts --------------------------------------------

const baseName = (path: string): string => path.replace(/\/+$/, '').split('/').pop() ?? path;
/** `.qp`, `.zst`, `.lz4` (xtrabackup --compress) and `.xbcrypt` members keep their inner name. */
const innerName = (path: string): string => baseName(path).replace(/\.(?:qp|zst|lz4|xbcrypt)$/, '');

const MYDUMPER_FILE = /^(.+?)(?:-schema-create|-schema-post|\..+?(?:-schema(?:-view|-triggers)?|\.\d{5})?)\.sql(?:\.(gz|zst))?$/;

function detectMydumper(members: BackupMember[]): Omit<BackupFormat, 'compression' | 'container'> | undefined {
  const names = members.map((m) => baseName(m.path));
  const metadata = members.find((m) => baseName(m.path) === 'metadata' || baseName(m.path) === 'metadata.partial');
  const creates = names.filter((n) => /-schema-create\.sql(?:\.(?:gz|zst))?$/.test(n));
  const startedDump = /^#? ?Started dump at: /m.test(metadata?.content ?? '');
  if (!startedDump && creates.length === 0) return undefined;
  if (!metadata && !names.some((n) => MYDUMPER_FILE.test(n))) return undefined;
  const seen = creates.map((n) => n.replace(/-schema-create\.sql(?:\.(?:gz|zst))?$/, ''));
  const gz = names.some((n) => n.endsWith('.sql.gz'));
  const zst = names.some((n) => n.endsWith('.sql.zst'));
  const gtid = /^[ \t]*(?:GTID:|Executed_Gtid_Set = )(.*)$/m.exec(metadata?.content ?? '')?.[1]?.trim() ?? '';
  return {
    kind: 'mydumper',
    tool: 'mydumper',
    flavor: /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(gtid) ? 'mysql' : /^\d+-\d+-\d+/.test(gtid) ? 'mariadb' : 'unknown',
    // The directory lists every database that has a schema-create file.
    scope: seen.includes('mysql') ? { kind: 'all-databases', seen } : { kind: 'databases', seen },
    ...(gz || zst ? { memberCompression: zst ? 'zstd' : 'gzip' } : {}),
  };
}

/** `key = value` lines of xtrabackup_checkpoints / xtrabackup_info. */
export function keyValues(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of (text ?? '').matchAll(/^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

function member(members: BackupMember[], suffix: string): BackupMember | undefined {
  return members.find((m) => innerName(m.path) === `xtrabackup_${suffix}`) ?? members.find((m) => innerName(m.path) === `mariadb_backup_${suffix}`);
}

/** Which tool wrote a physical backup, from its info file, then from names only one tool writes. */
function physicalTool(members: BackupMember[], names: string[]): 'mariabackup' | 'xtrabackup' | undefined {
  const info = keyValues(member(members, 'info')?.content);
  const toolName = info.get('tool_name') ?? '';
  if (/mariabackup|mariadb-backup/i.test(toolName) || /mariadb/i.test(info.get('server_version') ?? '')) return 'mariabackup';
  if (/xtrabackup/i.test(toolName)) return 'xtrabackup';
  // MariaDB 10.11+ writes mariadb_backup_* files; Aria files exist only in MariaDB datadirs.
  if (names.some((n) => n.startsWith('mariadb_backup_') || n === 'aria_log_control' || /\.MA[ID]$/.test(n))) return 'mariabackup';
  // MySQL 8 datadirs: the mysql.ibd data dictionary and undo_00N tablespaces.
  if (names.some((n) => n === 'mysql.ibd' || /^undo_\d{3}$/.test(n))) return 'xtrabackup';
  return undefined;
}

function detectPhysical(members: BackupMember[], fail: (what: string) => DrillError): Omit<BackupFormat, 'compression' | 'container'> | undefined {
  const names = members.map((m) => innerName(m.path));
  const marks = ['checkpoints', 'info', 'binlog_info'].some((s) => member(members, s)) || names.includes('backup-my.cnf');
  const innodb = names.some((n) => n === 'ibdata1' || n.endsWith('.ibd'));
  if (!marks && !innodb) return undefined;
  const tool = physicalTool(members, names);
  if (!tool) {
    throw fail(
      `is a physical InnoDB backup (${names.slice(0, 5).join(', ')}) but what was read does not say which tool wrote it ` +
        '(no xtrabackup_info / mariadb_backup_info with a tool_name, no file only one tool writes); list every member and detect again',
    );
  }
  const info = keyValues(member(members, 'info')?.content);
  const checkpoints = keyValues(member(members, 'checkpoints')?.content);
  const backupType = checkpoints.get('backup_type');
  return {
    kind: tool,
    tool,
    flavor: tool === 'mariabackup' ? 'mariadb' : 'mysql',
    ...(info.get('tool_version') ? { toolVersion: info.get('tool_version') } : {}),
    ...(info.get('server_version') ? { serverVersion: info.get('server_version') } : {}),
    ...(backupType
      ? { physical: { backupType, prepared: backupType === 'full-prepared' || backupType === 'log-applied', incremental: backupType === 'incremental' } }
      : {}),
  };
}

// ---- entry points ----------------------------------------------------------------------------

export interface PayloadInput {
  /** The first bytes of the (decompressed) stream. */
  innerHead: Uint8Array;
  /** For tar/xbstream: members a caller listed by walking the whole stream; those in the head are added. */
  members?: BackupMember[];
  /** Only for messages. */
  name?: string;
}

/** An archive by its first (decompressed) bytes: an xbstream / mbstream or a tar; undefined for anything else. */
export function payloadContainer(head: Uint8Array): 'xbstream' | 'tar' | undefined {
  if (startsWith(head, XBSTREAM_MAGIC)) return 'xbstream';
  return startsWith(head, [0x75, 0x73, 0x74, 0x61, 0x72], 257) ? 'tar' : undefined;
}

/** What a decompressed stream is. Throws UnknownBackupFormat when none of the supported formats. */
export function detectPayload(input: PayloadInput): Omit<BackupFormat, 'compression'> {
  const { innerHead: head, name } = input;
  const container = payloadContainer(head);
  if (container) {
    const inHead = container === 'tar' ? tarMembersInHead(head) : xbstreamMembersInHead(head);
    const members = [...(input.members ?? []), ...inHead.filter((m) => !input.members?.some((k) => k.path === m.path))];
    const fail = (what: string): DrillError => unknownFormat(`is a ${container} that ${what}`, head, name);
    const found = detectPhysical(members, fail) ?? (container === 'tar' ? detectMydumper(members) : undefined);
    if (found) return { ...found, container };
    const list = members.slice(0, 5).map((m) => m.path).join(', ');
    throw unknownFormat(`is a ${container} whose members (${list || 'none readable'}) are neither a mariabackup/XtraBackup backup nor a mydumper directory`, head, name);
  }
  const text = utf8.decode(head);
  if (DUMP_START.test(text)) return detectDump(text);
  throw unknownFormat('is not a backup restore-drill recognises', head, name);
}

/** {@link detectCompression} then {@link detectPayload}; `innerHead` is required when the file is compressed. */
export function detectBackupFormat(input: { head: Uint8Array; innerHead?: Uint8Array; members?: BackupMember[]; name?: string }): BackupFormat {
  const compression = detectCompression(input.head);
  const innerHead = compression === 'none' ? input.head : input.innerHead;
  if (innerHead === undefined) throw new Error(`detectBackupFormat: ${compression} file without its decompressed head`);
  return { compression, ...detectPayload({ innerHead, ...(input.members ? { members: input.members } : {}), ...(input.name ? { name: input.name } : {}) }) };
}

/** A backup directory, by its file names (relative paths) and its small metadata files' contents. */
export function detectDirectoryFormat(files: BackupMember[], name?: string): BackupFormat {
  const fail = (what: string): DrillError =>
    new DrillError(DrillErrorTypes.UnknownBackupFormat, `${name ?? 'the backup directory'} ${what}. ${SUPPORTED}.`, { details: name ? { name } : {} });
  const found = detectPhysical(files, fail) ?? detectMydumper(files);
  if (found) return { ...found, compression: 'none', container: 'directory' };
  const list = files.slice(0, 8).map((f) => f.path).join(', ');
  throw new DrillError(
    DrillErrorTypes.UnknownBackupFormat,
    `${name ?? 'the backup directory'} holds ${files.length === 0 ? 'no files' : `${list}${files.length > 8 ? ', …' : ''}`}: neither a mydumper directory (metadata, <db>-schema-create.sql) nor a mariabackup/XtraBackup directory (xtrabackup_checkpoints, ibdata1). ${SUPPORTED}.`,
    { details: { ...(name ? { name } : {}), files: files.slice(0, 20).map((f) => f.path) } },
  );
}
