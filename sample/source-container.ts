/**
 * The sample source server for the demo and the tests: a container of either flavor with
 * ROW binlogs and GTIDs, the university schema, and a read-only user whose password lives
 * in a 0600 file (a secret reference, like a production source's).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerRuntime, ContainerSpec } from '../adapters/container-runtime';
import { waitUntilAnswering, withSession } from '../adapters/mysql';
import type { SourceSpec } from '../config/schema';
import { CONTAINER_DATADIR, CONTAINER_SOCKET_DIR, FLAVOR_TOOLS, serverCommand } from '../domain/flavors';
import { physicalPrivileges } from '../domain/physical/backups';
import { sandboxLabels } from '../domain/naming';
import type { Flavor } from '../domain/types';
import { universitySchema, universitySeed } from './university-schema';

export const SAMPLE_READER = 'drill_reader';
/** Where a physical-ready MySQL sample source clones to (a bind-mounted host folder). */
export const SAMPLE_CLONE_DIR = '/clones';

export interface SampleSourceOptions {
  runtime: ContainerRuntime;
  flavor: Flavor;
  /** Container and source name, e.g. `sample-mariadb`. */
  name: string;
  /** Folder for the socket and the password file. */
  home: string;
  image?: string;
  seed?: { students: number; courses: number };
  /**
   * Ready for physical backups (made at creation): MariaDB's datadir in a host folder that
   * mariabackup can read; MySQL's clone plugin installed (the one setup step a DBA does) and
   * a host folder the server clones into. The reader also gets BACKUP_ADMIN (MySQL).
   */
  physical?: boolean;
  /** `unless-stopped`: the daemon brings the source back after it restarts, as it would a production server. */
  restartPolicy?: ContainerSpec['restartPolicy'];
}

export interface SampleSource {
  spec: SourceSpec;
  containerName: string;
  socketPath: string;
  /** For setup and for tests that inspect the source as an administrator would. */
  rootCredentials: { user: string };
  /** The container was made now: a new server, with a binlog history of its own. */
  created: boolean;
}

/** Grants a drill needs on a source: reads (EXECUTE: views that call functions), consistent snapshots, binlog coordinates and binlog reads. Nothing that writes data. */
export function readerGrants(flavor: Flavor): string {
  const replication = flavor === 'mariadb' ? 'REPLICATION SLAVE, BINLOG MONITOR' : 'REPLICATION SLAVE, REPLICATION CLIENT';
  return `SELECT, EXECUTE, RELOAD, LOCK TABLES, SHOW VIEW, TRIGGER, EVENT, PROCESS, ${replication}`;
}

export async function ensureSampleSource(opts: SampleSourceOptions): Promise<SampleSource> {
  const image = opts.image ?? FLAVOR_TOOLS[opts.flavor].defaultImage;
  const dir = path.join(opts.home, opts.name);
  const socketDir = path.join(dir, 'sock');
  const socketPath = path.join(socketDir, 'mysqld.sock');
  const passwordFile = path.join(dir, 'reader.password');
  const dataDir = path.join(dir, 'data');
  const cloneDir = path.join(dir, 'clones');
  const physicalBinds = !opts.physical ? [] : opts.flavor === 'mariadb' ? [`${dataDir}:${CONTAINER_DATADIR}`] : [`${cloneDir}:${SAMPLE_CLONE_DIR}`];
  if (opts.physical) await mkdir(opts.flavor === 'mariadb' ? dataDir : cloneDir, { recursive: true });
  await mkdir(socketDir, { recursive: true });
  await chmod(socketDir, 0o777);
  const existing = await opts.runtime.inspect(opts.name);
  if (!existing) {
    await opts.runtime.ensureImage(image);
    await opts.runtime.createAndStart({
      name: opts.name,
      image,
      cmd: serverCommand(opts.flavor, 'source', 1),
      labels: sandboxLabels({ role: 'source', run: opts.name, source: opts.name, expires: '9999-12-31T00:00:00.000Z' }),
      binds: [`${socketDir}:${CONTAINER_SOCKET_DIR}`, ...physicalBinds],
      networkMode: 'none',
      env: ['TZ=UTC'],
      restartPolicy: opts.restartPolicy,
    });
  } else if (!existing.running) {
    await opts.runtime.start(opts.name);
  }
  const root = { user: 'root' };
  await waitUntilAnswering({ socket: socketPath }, root, 120_000, async (attempt) => {
    if (attempt % 10 !== 0) return;
    const now = await opts.runtime.inspect(opts.name);
    if (now && !now.running) throw new Error(`sample source ${opts.name} exited with ${now.exitCode}: ${(await opts.runtime.logs(opts.name, 20)).trim()}`);
  });

  let password = await readFile(passwordFile, 'utf8').catch(() => undefined);
  await withSession({ socket: socketPath }, root, async (s) => {
    const [has] = await s.query<{ n: number }>("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'university'");
    if (Number(has.n) === 0) {
      for (const sql of [...universitySchema(opts.flavor), ...universitySeed(opts.seed ?? { students: 300, courses: 40 })]) await s.query(sql);
    }
    const [user] = await s.query<{ n: number }>('SELECT COUNT(*) AS n FROM mysql.user WHERE user = ?', [SAMPLE_READER]);
    if (password === undefined || Number(user.n) === 0) {
      password = randomBytes(18).toString('base64url');
      await s.query(`CREATE USER IF NOT EXISTS '${SAMPLE_READER}'@'localhost' IDENTIFIED BY ?`, [password]);
      await s.query(`ALTER USER '${SAMPLE_READER}'@'localhost' IDENTIFIED BY ?`, [password]);
      await writeFile(passwordFile, password, { mode: 0o600 });
    }
    await s.query(`GRANT ${readerGrants(opts.flavor)} ON *.* TO '${SAMPLE_READER}'@'localhost'`);
    if (opts.physical && opts.flavor === 'mysql') {
      const [clone] = await s.query<{ n: number }>("SELECT COUNT(*) AS n FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone'");
      if (Number(clone.n) === 0) await s.query("INSTALL PLUGIN clone SONAME 'mysql_clone.so'");
      await s.query(`GRANT ${physicalPrivileges('mysql')} ON *.* TO '${SAMPLE_READER}'@'localhost'`);
    }
  });
  const physical = !opts.physical ? {} : opts.flavor === 'mariadb' ? { physical: { datadir: dataDir, prepareMemoryMb: 512 } } : { physical: { cloneDir: { server: SAMPLE_CLONE_DIR, worker: cloneDir }, prepareMemoryMb: 512 } };
  return {
    spec: { name: opts.name, flavor: opts.flavor, connection: { socket: socketPath }, user: SAMPLE_READER, passwordRef: { file: passwordFile }, image, ...physical },
    containerName: opts.name,
    socketPath,
    rootCredentials: root,
    created: !existing,
  };
}
