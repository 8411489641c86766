/**
 * Replay planning reads the archived binlogs in steps and checks each against the archive
 * index: an unchanged archive plans, a changed file is named as changed (not by where its
 * parse trips). Local files only: the archive folder is the engine's own layout.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { replayPlanningActivities } from '../../activities/binlog/plan-replay';
import type { ActivityDeps } from '../../activities/deps';
import { binlogArchiveDir } from '../../adapters/local-layout';
import type { SourceSpec } from '../../config/schema';
import { BinlogWriter, UUID_A } from './binlog-fixtures';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'binlog', 'mysql', 'mysql-bin.000001');
const SOURCE = { name: 'plan-unit' } as SourceSpec;

let home: string;
let deps: ActivityDeps;
let archived: string;
beforeEach(() => {
  home = mkdtempSync(path.join(tmpdir(), 'plan-archive-'));
  deps = { runtime: undefined as never, paths: { artifactRoot: path.join(home, 'artifacts'), workRoot: path.join(home, 'work') } };
  const dir = binlogArchiveDir(deps.paths, SOURCE.name);
  mkdirSync(dir, { recursive: true });
  archived = path.join(dir, 'mysql-bin.000001');
  copyFileSync(FIXTURE, archived);
  const bytes = readFileSync(FIXTURE);
  const entry = { file: 'mysql-bin.000001', bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), endPosition: bytes.length, gtids: '', sealed: true, archivedAt: '2026-11-22T00:00:00Z' };
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ format: 1, source: SOURCE.name, flavor: 'mysql', files: [entry] }));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const plan = () => replayPlanningActivities(deps).planReplay({ source: SOURCE, flavor: 'mysql', target: { kind: 'latest' }, start: { file: 'mysql-bin.000001', position: 4 } });

test('an archive as indexed plans a replay of its transactions', async () => {
  const p = await plan();
  expect(p.files).toEqual(['mysql-bin.000001']);
  expect(p.transactions).toBeGreaterThan(0);
});

test('a byte changed inside an event is named as a change after archiving, not as a parse error', async () => {
  const bytes = readFileSync(archived);
  bytes[bytes.length - 40] ^= 0xff;
  writeFileSync(archived, bytes);
  await expect(plan()).rejects.toMatchObject({ type: 'ArtifactCorrupt', message: expect.stringMatching(/archived binlog mysql-bin\.000001 of source plan-unit changed after archiving \(sha256 [0-9a-f]{64}, \d+ bytes; index says/) });
});

test('a file cut short is named as a change after archiving', async () => {
  const bytes = readFileSync(archived);
  writeFileSync(archived, bytes.subarray(0, bytes.length - 100));
  await expect(plan()).rejects.toMatchObject({ type: 'ArtifactCorrupt', message: expect.stringMatching(/changed after archiving/) });
});

test('a binlog file of 300,000 transactions plans (they are not spread as arguments, which overflowed the stack)', async () => {
  const w = new BinlogWriter({ flavor: 'mysql' });
  w.previousGtids([]);
  for (let gno = 1; gno <= 300_000; gno++) w.rowTx(['shop.orders'], { gno, commitMicros: 1_795_000_000_000_000 + gno });
  const bytes = w.bytes();
  writeFileSync(archived, bytes);
  const entry = { file: 'mysql-bin.000001', bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), endPosition: bytes.length, gtids: `${UUID_A}:1-300000`, sealed: true, archivedAt: '2026-11-22T00:00:00Z' };
  writeFileSync(path.join(path.dirname(archived), 'index.json'), JSON.stringify({ format: 1, source: SOURCE.name, flavor: 'mysql', files: [entry] }));
  const p = await plan();
  expect(p.transactions).toBe(300_000);
}, 60_000);
