/**
 * Physical backups: MariaDB's mariabackup stream and MySQL's clone plugin. Pure: what the
 * tools print is parsed here, the scripts they run are built here, and a published stream's
 * completeness is checked here; activities/physical/ runs them.
 */
import type { Crc32 } from '../binlog/format';
import { DrillError, DrillErrorTypes } from '../errors';
import { CONTAINER_DATADIR } from '../flavors';
import type { Flavor, RecoveryPoint } from '../types';
import { KEPT_MEMBER_BYTES } from './tar-walker';
import type { ArchiveMember } from './tar-walker';

/** The published artifact of a physical backup, per flavor. */
export const PHYSICAL_FILES: Record<Flavor, string> = { mariadb: 'backup.mbstream.gz', mysql: 'datadir.tar.gz' };
export const PHYSICAL_ARCHIVES: Record<Flavor, 'mbstream' | 'tar'> = { mariadb: 'mbstream', mysql: 'tar' };

/** Privileges the source user needs on top of the logical ones (README, doctor). */
export function physicalPrivileges(flavor: Flavor): string {
  return flavor === 'mariadb' ? 'RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR' : 'BACKUP_ADMIN';
}

/**
 * mariabackup's last word on the binlog: `MySQL binlog position: filename 'mysql-bin.000001',
 * position '1273', GTID of the last change '0-1-5'`, printed once BACKUP STAGE BLOCK_COMMIT
 * holds every commit, so it is consistent with the copied data.
 */
export function parseMariabackupBinlogPosition(stderr: string): RecoveryPoint {
  const m = /MySQL binlog position: filename '([^']+)', position '(\d+)'(?:, GTID of the last change '([^']*)')?/.exec(stderr);
  if (!m) throw new DrillError(DrillErrorTypes.ArtifactCorrupt, 'mariabackup did not report a binlog position ("MySQL binlog position: …"): the source must run with log_bin=ON; the backup is not published');
  const gtid = m[3]?.trim();
  return { coordinates: { file: m[1]!, position: Number(m[2]) }, ...(gtid ? { gtidSet: gtid } : {}) };
}

/**
 * One row of `performance_schema.clone_status` as `mysql -N -B` prints it (BINLOG_FILE,
 * BINLOG_POSITION, GTID_EXECUTED tab-separated). A local clone leaves these empty on the
 * donor; the cloned datadir reports them at its first start (cloneFinalizeScript).
 */
export function parseCloneStatusRow(text: string): RecoveryPoint {
  const line = text.split('\n').find((l) => l.trim().length > 0) ?? '';
  const [file, position, gtid] = line.split('\t');
  if (!file || !position || !/^\d+$/.test(position.trim()) || Number(position) < 4)
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `the cloned datadir reports no binlog position (clone_status row "${line.trim()}"): the source must run with log_bin=ON; the backup is not published`);
  // MySQL prints a long GTID set over several lines with "\n" escaped by -B.
  const gtidSet = (gtid ?? '').replace(/\\n|\s+/g, '');
  return { coordinates: { file: file.trim(), position: Number(position) }, ...(gtidSet && gtidSet !== 'NULL' ? { gtidSet } : {}) };
}

/**
 * Starts the cloned datadir once in a throwaway server (no network, no grant tables, so the
 * source's passwords are never needed) to finish the clone and read the exact binlog position
 * it is consistent with, then shuts it down cleanly. auto.cnf goes, so each sandbox started
 * from the artifact makes its own server_uuid.
 */
export function cloneFinalizeScript(opts: { datadir: string; gtid: boolean }): string {
  const sock = '/tmp/rd-finalize.sock';
  const client = `mysql --no-defaults -uroot --socket=${sock} -N -B`;
  const gtid = opts.gtid ? ' --gtid-mode=ON --enforce-gtid-consistency=ON' : '';
  return [
    'set -eu',
    'mkdir -p /var/lib/mysql-files',
    `mysqld --no-defaults --user=root --datadir=${opts.datadir} --socket=${sock} --skip-networking --skip-grant-tables --skip-log-bin --server-id=4243${gtid} --plugin-load-add=mysql_clone.so --innodb-buffer-pool-size=256M --secure-file-priv=/var/lib/mysql-files >/tmp/rd-finalize.log 2>&1 &`,
    'pid=$!',
    'for i in $(seq 1 1200); do',
    `  if ${client} -e 'SELECT 1' >/dev/null 2>&1; then break; fi`,
    '  if ! kill -0 $pid 2>/dev/null; then echo "the cloned datadir did not start:" >&2; tail -30 /tmp/rd-finalize.log >&2; exit 3; fi',
    '  sleep 0.2',
    'done',
    `${client} -e 'SELECT BINLOG_FILE, BINLOG_POSITION, GTID_EXECUTED FROM performance_schema.clone_status ORDER BY ID DESC LIMIT 1' > /tmp/rd-clone-status`,
    `${client} -e 'SHUTDOWN'`,
    'wait $pid || { tail -30 /tmp/rd-finalize.log >&2; exit 4; }',
    `rm -f ${opts.datadir}/auto.cnf`,
    'cat /tmp/rd-clone-status',
  ].join('\n');
}

/** mariabackup arguments (after the option file) for a streamed backup of the datadir mounted at the server's own path. */
export function mariabackupArgs(): string[] {
  // --target-dir only holds mariabackup's own temporary files when streaming.
  return ['--backup', '--stream=mbstream', '--target-dir=/tmp/mariabackup', '--parallel=2'];
}

/** Extracts a published mbstream and prepares it (crash recovery of the copied redo) in place. */
export function mariabackupRestoreScript(opts: { artifact: string; target: string; useMemoryMb: number }): string {
  return [
    'set -eu -o pipefail',
    `gunzip -c '${opts.artifact}' | mbstream -x -C '${opts.target}'`,
    `mariabackup --prepare --use-memory=${opts.useMemoryMb}M --target-dir='${opts.target}'`,
  ].join('\n');
}

/**
 * SQL run by a physically restored sandbox at every start (--init-file). The datadir carries
 * the source's accounts and passwords; the engine needs none of them. This makes root@localhost
 * what a freshly initialised sandbox has (MariaDB: unix_socket, so only the OS root user on the
 * worker; MySQL: no password, as --initialize-insecure): safe because the sandbox has no
 * network at all and its socket lives in a private folder of the worker.
 */
export function sandboxAdminInitSql(flavor: Flavor): string[] {
  if (flavor === 'mariadb') {
    return [
      'CREATE USER IF NOT EXISTS root@localhost IDENTIFIED VIA unix_socket;',
      'ALTER USER root@localhost IDENTIFIED VIA unix_socket ACCOUNT UNLOCK;',
      'GRANT ALL PRIVILEGES ON *.* TO root@localhost WITH GRANT OPTION;',
      // As a logical restore does (resetSandboxSql): the applier's GTID state starts empty.
      "SET GLOBAL gtid_slave_pos = '';",
    ];
  }
  return [
    "CREATE USER IF NOT EXISTS 'root'@'localhost' IDENTIFIED WITH caching_sha2_password BY '';",
    "ALTER USER 'root'@'localhost' IDENTIFIED WITH caching_sha2_password BY '' ACCOUNT UNLOCK;",
    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT OPTION;",
  ];
}

/** Where a physically restored datadir is mounted in the sandbox: the server's own datadir. */
export const RESTORED_DATADIR = CONTAINER_DATADIR;

const XB_MAGIC = Buffer.from('XBSTCK01', 'latin1');

export interface XbstreamSummary {
  files: number;
  chunks: number;
  payloadBytes: number;
}

/**
 * Walks an mbstream (xbstream) as it streams: every chunk's header, its payload's CRC32, and
 * every file closed by its EOF chunk. A stream cut short or with changed bytes fails here,
 * before any sandbox starts. Chunk: magic "XBSTCK01", flags (1), type (1: 'P' payload,
 * 'E' end of file), path length (4, LE), path; payload chunks then carry length (8), offset
 * (8), CRC32 (4) and the payload.
 */
export class XbstreamWalker {
  /** Header bytes not yet parsed (headers are small: only they are ever concatenated). */
  private head: Buffer = Buffer.alloc(0);
  /** The payload being read: its bytes are hashed as they pass, never buffered (chunks are MiBs). */
  private payload: { file: string; remaining: number; crc: number; expected: number } | undefined;
  private readonly open = new Set<string>();
  private summary: XbstreamSummary = { files: 0, chunks: 0, payloadBytes: 0 };
  /** Every file seen, in stream order; the bytes of those `keep` asked for (small metadata files). */
  private readonly seen = new Map<string, Uint8Array[] | undefined>();

  /** `crc32`: Node's zlib.crc32, passed in (domain code has no Node built-ins). */
  constructor(
    private readonly where: string,
    private readonly crc32: Crc32,
    private readonly keep: (path: string) => boolean = () => false,
  ) {}

  /** The files of the stream (walked to its end), with the contents of the kept ones. */
  members(): ArchiveMember[] {
    const decoder = new TextDecoder('utf-8');
    return [...this.seen].map(([path, parts]) => (parts ? { path, content: decoder.decode(Buffer.concat(parts).subarray(0, KEPT_MEMBER_BYTES)) } : { path }));
  }

  push(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.payload) {
        const take = Math.min(this.payload.remaining, rest.length);
        this.payload.crc = this.crc32(rest.subarray(0, take), this.payload.crc);
        this.seen.get(this.payload.file)?.push(rest.subarray(0, take));
        this.payload.remaining -= take;
        rest = rest.subarray(take);
        if (this.payload.remaining === 0) this.finishPayload();
        continue;
      }
      this.head = this.head.length === 0 ? rest : Buffer.concat([this.head, rest]);
      rest = Buffer.alloc(0);
      const used = this.headerAt();
      if (used === 0) break;
      rest = this.head.subarray(used);
      this.head = Buffer.alloc(0);
    }
  }

  end(): XbstreamSummary {
    if (this.payload || this.head.length > 0) this.fail(`ends inside a chunk (${this.payload ? `${this.payload.remaining} payload bytes of ${this.payload.file} missing` : `${this.head.length} header bytes left over`})`);
    if (this.open.size > 0) this.fail(`ends with ${this.open.size} file(s) never completed (${[...this.open].slice(0, 3).join(', ')})`);
    if (this.summary.files === 0) this.fail('holds no file');
    return { ...this.summary };
  }

  /** Parses the chunk header at the start of `head`: its length, or 0 when more input is needed. */
  private headerAt(): number {
    const b = this.head;
    if (b.length < 14) return 0;
    if (!b.subarray(0, 8).equals(XB_MAGIC)) this.fail(`has no chunk header after ${this.summary.chunks} chunks (bytes changed or out of order)`);
    const type = String.fromCharCode(b[9]!);
    const pathLen = b.readUInt32LE(10);
    if (pathLen === 0 || pathLen > 4096) this.fail(`has a chunk with an impossible path length ${pathLen}`);
    if (b.length < 14 + pathLen) return 0;
    const file = b.subarray(14, 14 + pathLen).toString('utf8');
    if (!this.seen.has(file)) this.seen.set(file, this.keep(file) ? [] : undefined);
    if (type === 'E') {
      // An empty file is one EOF chunk without any payload chunk before it.
      if (!this.open.delete(file)) this.summary.files++;
      this.summary.chunks++;
      return 14 + pathLen;
    }
    if (type !== 'P') this.fail(`has a chunk of unknown type ${JSON.stringify(type)} for ${file}`);
    if (b.length < 14 + pathLen + 20) return 0;
    const length = Number(b.readBigUInt64LE(14 + pathLen));
    if (length > 2 ** 40) this.fail(`has a chunk of ${length} bytes for ${file}`);
    if (!this.open.has(file)) {
      this.open.add(file);
      this.summary.files++;
    }
    this.payload = { file, remaining: length, crc: 0, expected: b.readUInt32LE(14 + pathLen + 16) };
    this.summary.payloadBytes += length;
    if (length === 0) this.finishPayload();
    return 14 + pathLen + 20;
  }

  private finishPayload(): void {
    const p = this.payload!;
    this.payload = undefined;
    if (p.crc !== p.expected) this.fail(`has a chunk of ${p.file} whose CRC32 does not match: its bytes changed`);
    this.summary.chunks++;
  }

  private fail(what: string): never {
    throw new DrillError(DrillErrorTypes.DumpTruncated, `physical backup ${this.where} is not a complete mbstream: it ${what}; take a new backup`);
  }
}
