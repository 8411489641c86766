import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readWindow } from '../../activities/bisect/window';
import type { ActivityDeps } from '../../activities/deps';
import { drillWorkDir } from '../../adapters/local-layout';

describe("a bisect's window file", () => {
  let home: string;
  let deps: ActivityDeps;
  const windowOf = (transactions: number) => ({
    archiveDir: 'a',
    start: { file: 'mysql-bin.000001', position: 4 },
    stop: { file: 'mysql-bin.000001', position: 4 + transactions * 100 },
    transactions: Array.from({ length: transactions }, (_, i) => ({ file: 'mysql-bin.000001', startPosition: 4 + i * 100, endPosition: 104 + i * 100, timestamp: 0, kind: 'dml', statements: [], tables: [] })),
  });
  const write = async (drillId: string, content: object) => {
    const file = path.join(drillWorkDir(deps.paths, drillId), 'bisect-window.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.new`, JSON.stringify(content));
    await rename(`${file}.new`, file);
  };

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'rd-window-'));
    deps = { paths: { artifactRoot: path.join(home, 'artifacts'), workRoot: path.join(home, 'work') } } as ActivityDeps;
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  test('is parsed once per worker while the file stays the same', async () => {
    await write('b1', windowOf(3));
    const first = await readWindow(deps, 'b1');
    expect(first.transactions).toHaveLength(3);
    expect(await readWindow(deps, 'b1')).toBe(first);
  });

  test('is read again once it was replaced', async () => {
    await write('b2', windowOf(3));
    await readWindow(deps, 'b2');
    await write('b2', windowOf(5));
    expect((await readWindow(deps, 'b2')).transactions).toHaveLength(5);
  });

  test('missing, names the folder and what to do', async () => {
    await expect(readWindow(deps, 'gone')).rejects.toMatchObject({ type: 'BadConfig', message: expect.stringMatching(/no window file .*start the bisect again/) });
  });
});
