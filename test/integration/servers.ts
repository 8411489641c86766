/**
 * The database servers the integration suites run on, and the image of each that this run
 * names: `RD_MARIADB_IMAGE`, `RD_MARIADB_11_8_IMAGE`, `RD_MYSQL_IMAGE` (the names
 * deploy/images.sh reads), else the image deploy/images.sh builds.
 */
import { FLAVOR_TOOLS, MARIADB_11_IMAGE } from '../../domain/flavors';
import type { Flavor } from '../../domain/types';

export type ServerName = 'mariadb' | 'mariadb-11.8' | 'mysql';

export interface TestServer {
  /** As suites print it: `drill on mariadb-11.8`. */
  name: ServerName;
  /**
   * For container, source and task queue names (no dots): `mariadb`, `mdb118`, `mysql`. Short:
   * it appears twice in a sandbox's socket path, which a unix socket limits to 107 bytes.
   */
  id: string;
  flavor: Flavor;
  image: string;
}

const DEFAULT_IMAGES: Record<ServerName, { flavor: Flavor; image: string }> = {
  mariadb: { flavor: 'mariadb', image: FLAVOR_TOOLS.mariadb.defaultImage },
  'mariadb-11.8': { flavor: 'mariadb', image: MARIADB_11_IMAGE },
  mysql: { flavor: 'mysql', image: FLAVOR_TOOLS.mysql.defaultImage },
};

/** `mariadb-11.8` → `RD_MARIADB_11_8_IMAGE`. */
export function imageVariable(name: ServerName): string {
  return `RD_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_IMAGE`;
}

export function testServer(name: ServerName): TestServer {
  const { flavor, image } = DEFAULT_IMAGES[name];
  return { name, id: name === 'mariadb-11.8' ? 'mdb118' : name, flavor, image: process.env[imageVariable(name)] || image };
}

export const ALL_SERVER_NAMES = Object.keys(DEFAULT_IMAGES) as ServerName[];

/** MariaDB 10.11 and MySQL 9.7: suites whose behaviour depends on the flavor, not on the MariaDB release. */
export const BOTH_FLAVORS: TestServer[] = [testServer('mariadb'), testServer('mysql')];
/** MariaDB 10.11, MariaDB 11.8 and MySQL 9.7: suites that prove the engine on each server release it supports (docs/tests.md). */
export const ALL_SERVERS: TestServer[] = ALL_SERVER_NAMES.map(testServer);
