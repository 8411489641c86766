/**
 * The local-folder artifact store as the engine uses it by default, on a temporary folder:
 * publishing a backup (one rename, manifest inside), listing, retention unpublishing the older
 * one and reporting a folder without manifest, and reports written, read back and pruned.
 * The S3 adapter is proven on the real S3 server (test/integration/artifact-store.test.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { janitorActivities } from '../../activities/artifacts/janitor';
import { listPublishedBackups } from '../../activities/artifacts/catalog';
import { publishBackup } from '../../activities/artifacts/publish';
import type { ActivityDeps } from '../../activities/deps';
import { pruneReports, readReports, writeReport } from '../../adapters/report-files';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import type { DrillReport } from '../../domain/report/report';

let home: string;
let deps: ActivityDeps;
beforeEach(() => {
  home = mkdtempSync(path.join(tmpdir(), 'local-store-'));
  deps = { runtime: undefined as never, paths: { artifactRoot: path.join(home, 'artifacts'), workRoot: path.join(home, 'work') } };
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const manifestOf = (backupId: string, position: number): BackupManifest => ({
  format: 1, kind: 'logical', backupId, source: 'orders', createdAt: `2026-11-0${position}T00:00:00Z`, finishedAt: `2026-11-0${position}T00:01:00Z`,
  file: 'dump.sql.gz', bytes: 4, sha256: 'a'.repeat(64), uncompressedBytes: 4, databases: ['orders'],
  coordinates: { file: 'mysql-bin.000001', position: 100 * position }, server: { flavor: 'mariadb', version: '10.11' }, tool: { name: 'mariadb-dump' },
});

const publish = (drillId: string, position: number) =>
  publishBackup(deps, { drillId, source: 'orders', fileName: 'dump.sql.gz', what: 'the dump' }, async ({ backupId, file }) => {
    writeFileSync(file, 'dump');
    return manifestOf(backupId, position);
  });

test('a published backup is a folder with its artifact and manifest, named by paths as before; nothing partial is left', async () => {
  const published = await publish('drill-1', 1);
  const dir = path.join(home, 'artifacts', 'orders', 'backups', 'drill-1');
  expect(published).toMatchObject({ manifestPath: path.join(dir, 'manifest.json'), backupDir: dir, dumpPath: path.join(dir, 'dump.sql.gz') });
  expect(readdirSync(path.join(home, 'artifacts', 'orders', 'backups'))).toEqual(['drill-1']);
  expect((await listPublishedBackups(deps.paths, 'orders')).map((b) => b.manifestPath)).toEqual([published.manifestPath]);
  // A retry adopts it instead of writing a second one.
  expect(await publish('drill-1', 9)).toMatchObject({ manifest: { coordinates: { position: 100 } } });
});

test('retention unpublishes and removes the older backup, and reports a folder without manifest instead of removing it', async () => {
  await publish('drill-1', 1);
  await publish('drill-2', 2);
  mkdirSync(path.join(home, 'artifacts', 'orders', 'backups', 'by-hand'));
  writeFileSync(path.join(home, 'artifacts', 'orders', 'backups', 'by-hand', 'dump.sql.gz'), 'x');
  const [result] = await janitorActivities(deps, async () => 'closed').enforceRetention({ policies: [{ source: 'orders', keepBackups: 1 }] });
  expect(result!.removedBackups.map((b) => b.folder)).toEqual(['drill-1']);
  expect(result!.reported).toEqual([expect.objectContaining({ folder: 'by-hand' })]);
  expect(readdirSync(path.join(home, 'artifacts', 'orders', 'backups')).sort()).toEqual(['by-hand', 'drill-2']);
});

test('reports are written whole, read back newest first and pruned with their folders', async () => {
  const report = (day: number) =>
    ({ drillId: `d${day}`, source: 'orders', flavor: 'mariadb', startedAt: `2026-11-0${day}T02:30:00Z`, finishedAt: `2026-11-0${day}T02:31:00Z`, target: 'checkpoint', phases: [], checks: [], outcome: 'passed', rtoSeconds: 60, totalSeconds: 60, backup: { artifactPath: '/x', bytes: 1, sha256: 'a'.repeat(64) } }) as unknown as DrillReport;
  for (const day of [1, 2, 3]) await writeReport(deps.paths, report(day));
  expect((await readReports(deps.paths, 'orders')).map((r) => r.drillId)).toEqual(['d3', 'd2', 'd1']);
  expect(await pruneReports(deps.paths, 'orders', 2)).toBe(1);
  expect(readdirSync(path.join(home, 'artifacts', 'orders', 'reports')).sort()).toEqual(['d2', 'd3']);
});
