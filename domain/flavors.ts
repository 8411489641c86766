/**
 * What differs between MySQL and MariaDB for the engine: binary names, server options,
 * and the SQL that reads replication state. Pure: commands are built here, run elsewhere.
 */
import type { Flavor } from './types';

export interface FlavorTools {
  server: string;
  client: string;
  dump: string;
  binlog: string;
  defaultImage: string;
}

export const FLAVOR_TOOLS: Record<Flavor, FlavorTools> = {
  mysql: { server: 'mysqld', client: 'mysql', dump: 'mysqldump', binlog: 'mysqlbinlog', defaultImage: 'restore-drill/mysql:9.7' },
  mariadb: { server: 'mariadbd', client: 'mariadb', dump: 'mariadb-dump', binlog: 'mariadb-binlog', defaultImage: 'restore-drill/mariadb:10.11' },
};

export function detectFlavor(version: string): Flavor {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}

/** The project's MariaDB 11.8 LTS image (deploy/images.sh builds it from Debian trixie). */
export const MARIADB_11_IMAGE = 'restore-drill/mariadb:11.8';

/**
 * The image a source is backed up and restored with when its configuration names none: the
 * project's image of the server's release series. mariabackup copies only a server of its own
 * series, and a MariaDB 11 dump or datadir is not for a 10.11 server, so a MariaDB 11.x source
 * (`11.8.9-MariaDB-0+deb13u1 from Debian`) gets the 11.8 image; older MariaDB and every MySQL the
 * flavor's default.
 */
export function defaultImage(flavor: Flavor, version?: string): string {
  const major = Number(/^(\d+)\./.exec(version ?? '')?.[1]);
  if (flavor === 'mariadb' && major >= 11) return MARIADB_11_IMAGE;
  return FLAVOR_TOOLS[flavor].defaultImage;
}

/** Where a server started by the engine puts its socket, inside the container. */
export const CONTAINER_SOCKET_DIR = '/sock';
export const CONTAINER_SOCKET = `${CONTAINER_SOCKET_DIR}/mysqld.sock`;
export const CONTAINER_DATADIR = '/var/lib/mysql';
/**
 * Run once by the container's start script before the server starts, then removed: how a
 * bisect copies a stopped sandbox's datadir (domain/bisect/snapshots.ts).
 */
export const SANDBOX_ON_START_HOOK = '/var/lib/restore-drill/on-start.sh';
/**
 * The hook folder of a sandbox whose server restarts in place, in the socket folder the worker
 * shares with it: the worker writes a hook there itself, without a `docker exec` (about 0.1 s).
 * The worker makes it and only the worker may write in it (activities/sandbox).
 */
export const SANDBOX_HOOK_DIR_NAME = 'hooks';
export const SANDBOX_IN_PLACE_HOOK = `${CONTAINER_SOCKET_DIR}/${SANDBOX_HOOK_DIR_NAME}/on-start.sh`;
/**
 * Server options added at every later start, one a line, after the container's own (the last
 * one given wins): a bisect keeps its smaller redo log across restarts with it.
 */
export const SANDBOX_EXTRA_OPTIONS = '/var/lib/restore-drill/server-options';

export type ServerRole = 'sandbox' | 'source';

/**
 * Server options. A sandbox is disposable: no binary log, no doublewrite, lazy redo flush
 * (durable settings made replay about 3x slower: docs/performance.md). A source logs ROW
 * binlogs with GTIDs, as production sources must for point-in-time recovery.
 */
export function serverOptions(flavor: Flavor, role: ServerRole, serverId: number, opts: { bufferPoolMb?: number; redoLogMb?: number } = {}): string[] {
  const common = [
    '--user=root',
    `--datadir=${CONTAINER_DATADIR}`,
    `--socket=${CONTAINER_SOCKET}`,
    `--pid-file=${CONTAINER_SOCKET_DIR}/mysqld.pid`,
    '--skip-networking',
    `--server-id=${serverId}`,
    '--character-set-server=utf8mb4',
    '--max-allowed-packet=1073741824',
    '--secure-file-priv=/var/lib/mysql-files',
  ];
  const gtid = flavor === 'mysql' ? ['--gtid-mode=ON', '--enforce-gtid-consistency=ON'] : [];
  if (role === 'source') {
    return [...common, ...gtid, '--local-infile=0', '--log-bin=mysql-bin', '--binlog-format=ROW', '--innodb-buffer-pool-size=256M', ...(flavor === 'mariadb' ? ['--log-slave-updates=ON'] : [])];
  }
  const bufferPoolMb = opts.bufferPoolMb ?? SANDBOX_BUFFER_POOL_MIN_MB;
  return [
    ...common,
    ...gtid,
    ...(flavor === 'mysql' ? ['--skip-log-bin'] : []),
    // The restore streams rows with LOAD DATA LOCAL over the socket (activities/fast-restore.ts);
    // the sandbox has no network and only the worker reaches its socket.
    '--local-infile=1',
    '--innodb-flush-log-at-trx-commit=0',
    '--innodb-doublewrite=0',
    `--innodb-buffer-pool-size=${bufferPoolMb}M`,
    // The deferred secondary keys are built by a merge sort in buffers of this size (MariaDB;
    // MySQL 8.0.27+ has innodb_ddl_buffer_size): the 1 MB default merges in many passes.
    ...(flavor === 'mariadb' ? [`--innodb-sort-buffer-size=${sandboxSortBufferMb(bufferPoolMb)}M`] : []),
    // A big redo log: a bulk load or replay is not throttled by checkpoint flushing (cost at
    // start-up measured at under 0.1 s). A bisect of a small restore asks for less (domain/bisect/snapshots.ts).
    `--${flavor === 'mysql' ? 'innodb-redo-log-capacity' : 'innodb-log-file-size'}=${opts.redoLogMb !== undefined ? `${opts.redoLogMb}M` : '1G'}`,
    '--skip-name-resolve',
    // Fixed relay log name: binlog replay links archived files in as relay logs (domain/relay-replay.ts).
    '--relay-log=relay-bin',
    // A restarted sandbox must never start replication threads on its own (the IO thread would try to connect).
    flavor === 'mysql' ? '--skip-replica-start' : '--skip-slave-start',
  ];
}

/**
 * MariaDB's sort buffer for index builds, in MiB: a 32nd of the buffer pool, between 1 and 64
 * (the server's limit). Each build of a table's keys takes a few of them at once, and two
 * tables' keys may be built at a time.
 */
export function sandboxSortBufferMb(bufferPoolMb: number): number {
  return Math.min(64, Math.max(1, Math.floor(bufferPoolMb / 32)));
}

/** The smallest sandbox buffer pool, and the one of a sandbox whose size is not known. */
export const SANDBOX_BUFFER_POOL_MIN_MB = 512;
/** An estimate of the InnoDB bytes a backup restores to, per byte of its compressed artifact, when the source's own size is not known (SQL text gzips 3-5x). */
const RESTORED_BYTES_PER_ARTIFACT_BYTE = 4;
/** Headroom over the source's data and index size: the replay adds rows, and secondary index builds sort in the pool. */
const DATA_HEADROOM = 1.25;
/** At most this share of the worker host's memory per sandbox: several drills share one worker. */
const HOST_MEMORY_SHARE = 0.25;

/** The InnoDB bytes a backup restores to: the source's data and index size, else an estimate from the artifact's. */
export function restoredBytesEstimate(opts: { sourceDataBytes?: number; artifactBytes?: number }): number {
  return opts.sourceDataBytes || (opts.artifactBytes ?? 0) * RESTORED_BYTES_PER_ARTIFACT_BYTE;
}

/**
 * The sandbox's InnoDB buffer pool, in MiB. Big enough to hold what the backup restores (the
 * source's data and index size with some headroom, or an estimate from the artifact), so the
 * load, the replay and the checks run in memory instead of evicting and re-reading pages, and
 * at most a quarter of the host's memory. A configured size is taken as it is. The server
 * allocates pages as they are used: a small restore never touches the rest.
 */
export function sandboxBufferPoolMb(opts: { configuredMb?: number; sourceDataBytes?: number; artifactBytes?: number; hostMemoryBytes: number }): number {
  if (opts.configuredMb !== undefined) return opts.configuredMb;
  const mib = 1024 * 1024;
  const cap = Math.max(128, Math.floor((opts.hostMemoryBytes * HOST_MEMORY_SHARE) / mib / 128) * 128);
  const restored = opts.sourceDataBytes ? opts.sourceDataBytes * DATA_HEADROOM : restoredBytesEstimate(opts);
  const wanted = Math.ceil(restored / mib / 128) * 128;
  return Math.min(cap, Math.max(SANDBOX_BUFFER_POOL_MIN_MB, wanted));
}

/**
 * The container command: our own, not the image's entrypoint, so official images (mysql:8.4,
 * mariadb:11) and the ones built here start the same way. Initialises an empty datadir first.
 * `restartInPlace`: the shell stays PID 1 and starts the server again whenever it exits with
 * a hook pending (domain/bisect/snapshots.ts), so a bisect's snapshot or rewind restarts the
 * server without Docker stopping and starting the container; a `docker stop` is passed on to
 * the server, and any other exit of the server ends the container with the server's code.
 */
export function serverCommand(flavor: Flavor, role: ServerRole, serverId: number, opts: { initSql?: readonly string[]; bufferPoolMb?: number; redoLogMb?: number; restartInPlace?: boolean } = {}): string[] {
  const tools = FLAVOR_TOOLS[flavor];
  // Written inside the container (not into the datadir), run by the server at every start.
  const initFile = '/run/mysqld/restore-drill-init.sql';
  const initScript = opts.initSql && opts.initSql.length > 0 ? [`printf '%s\\n' ${opts.initSql.map(shellQuote).join(' ')} > ${initFile}`] : [];
  const init =
    flavor === 'mysql'
      ? `mysqld --initialize-insecure --user=root --datadir=${CONTAINER_DATADIR}`
      : `"$(command -v mariadb-install-db || command -v mysql_install_db)" --user=root --datadir=${CONTAINER_DATADIR} --auth-root-authentication-method=socket >/dev/null`;
  const hook = opts.restartInPlace ? SANDBOX_IN_PLACE_HOOK : SANDBOX_ON_START_HOOK;
  const runHook = `if [ -f ${hook} ]; then bash ${hook}; rm -f ${hook}; fi`;
  const readExtra = `extra=(); if [ -f ${SANDBOX_EXTRA_OPTIONS} ]; then mapfile -t extra < ${SANDBOX_EXTRA_OPTIONS}; fi`;
  const server = `"$server" ${[...serverOptions(flavor, role, serverId, { bufferPoolMb: opts.bufferPoolMb, redoLogMb: opts.redoLogMb }), ...(initScript.length > 0 ? [`--init-file=${initFile}`] : [])].join(' ')} "\${extra[@]}"`;
  const start = opts.restartInPlace
    ? [
        'stopping=0; pid=0',
        `trap 'stopping=1; if [ "$pid" != 0 ]; then kill -TERM "$pid" 2>/dev/null || true; fi' TERM INT`,
        'while :; do',
        `  ${runHook}`,
        `  ${readExtra}`,
        `  ${server} &`,
        '  pid=$!; code=0',
        // wait returns early when a trapped signal arrives: wait again until the server is gone.
        '  wait "$pid" || code=$?',
        '  while kill -0 "$pid" 2>/dev/null; do code=0; wait "$pid" || code=$?; done',
        '  pid=0',
        `  if [ "$stopping" = 1 ] || [ ! -f ${hook} ]; then exit "$code"; fi`,
        'done',
      ]
    : [runHook, readExtra, `exec ${server}`];
  const script = [
    'set -eu',
    // --secure-file-priv aborts the server when its directory is missing (MySQL).
    `mkdir -p /var/lib/mysql-files /run/mysqld ${CONTAINER_SOCKET_DIR}`,
    `if [ ! -d ${CONTAINER_DATADIR}/mysql ]; then ${init}; fi`,
    // A datadir pre-initialised in an image carries that image's server_uuid (auto.cnf):
    // every container would share it, and GTIDs of different servers would collide. The
    // first start of each container forgets it so the server makes its own.
    `if [ ! -f ${CONTAINER_DATADIR}/.restore-drill-started ]; then rm -f ${CONTAINER_DATADIR}/auto.cnf; touch ${CONTAINER_DATADIR}/.restore-drill-started; fi`,
    ...initScript,
    `server=$(command -v ${tools.server} || command -v mysqld)`,
    ...start,
  ].join('\n');
  return ['bash', '-c', script];
}

/**
 * Kills every process in a sandbox but PID 1, the server and the caller: what a crashed
 * attempt left running (a restore or replay client a dead worker exec'd keeps writing). The
 * server is PID 1 itself (serverCommand execs it) or, restarted in place, PID 1's child named
 * by its pid file.
 */
export function quiesceScript(): string {
  return [
    `server=$(cat ${CONTAINER_SOCKET_DIR}/mysqld.pid 2>/dev/null || echo 1)`,
    'for d in /proc/[0-9]*; do p=${d#/proc/}; case "$p" in 1|"$$"|"$server") ;; *) kill -9 "$p" 2>/dev/null || true ;; esac; done',
    'true',
  ].join('\n');
}

/** Shell-quotes one argument for bash -c. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Client invocation inside a container started by the engine (root over the socket). */
export function localClient(flavor: Flavor): string[] {
  return [FLAVOR_TOOLS[flavor].client, '--binary-mode', '--default-character-set=utf8mb4', '--user=root', `--socket=${CONTAINER_SOCKET}`];
}

/** Empties a sandbox before a (re)load so a retried restore starts from a clean server. */
export function resetSandboxSql(flavor: Flavor, userDatabases: string[]): string[] {
  const drops = userDatabases.map((db) => `DROP DATABASE IF EXISTS \`${db.replace(/`/g, '``')}\``);
  return flavor === 'mysql' ? [...drops, 'RESET BINARY LOGS AND GTIDS'] : [...drops, "SET GLOBAL gtid_slave_pos = ''"];
}

export const SYSTEM_DATABASES = ['mysql', 'sys', 'information_schema', 'performance_schema'];
