import { FLAVOR_TOOLS, MARIADB_11_IMAGE, defaultImage, detectFlavor } from '../../domain/flavors';

/** Versions as the servers of the project's images answer SELECT VERSION(). */
const MARIADB_10_11 = '10.11.18-MariaDB-0+deb12u1-log';
const MARIADB_11_8 = '11.8.9-MariaDB-0+deb13u1 from Debian-log';
const MYSQL_9_7 = '9.7.4-2';

describe('flavor and release of a server', () => {
  test.each([
    [MARIADB_10_11, 'mariadb'],
    [MARIADB_11_8, 'mariadb'],
    [MYSQL_9_7, 'mysql'],
  ])('%s is %s', (version, flavor) => {
    expect(detectFlavor(version)).toBe(flavor);
  });

  test('a MariaDB 11.x source without a configured image gets the 11.8 image: mariabackup 10.11 cannot copy it', () => {
    expect(defaultImage('mariadb', MARIADB_11_8)).toBe(MARIADB_11_IMAGE);
    expect(defaultImage('mariadb', '11.4.5-MariaDB')).toBe(MARIADB_11_IMAGE);
  });

  test('MariaDB 10.x, MySQL of any version, and a server whose version is unknown get the flavor default', () => {
    expect(defaultImage('mariadb', MARIADB_10_11)).toBe(FLAVOR_TOOLS.mariadb.defaultImage);
    expect(defaultImage('mariadb')).toBe(FLAVOR_TOOLS.mariadb.defaultImage);
    expect(defaultImage('mysql', MYSQL_9_7)).toBe(FLAVOR_TOOLS.mysql.defaultImage);
    expect(defaultImage('mysql', '11.0.0')).toBe(FLAVOR_TOOLS.mysql.defaultImage);
  });
});
