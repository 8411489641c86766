/** One worker entry point: where a worker host's settings come from (flags, environment, configuration file, defaults). */
import { parseConfigText, sourceTaskQueue } from '../../config/load';
import { hostNameOf, workerHostSettings } from '../../workers/settings';

const file = (extra = '') =>
  parseConfigText(
    `home: /srv/rd\ntemporal: { address: temporal.internal:7233, namespace: drills, taskQueue: rd-dc1 }\n${extra}sources:\n  orders:\n    connection: { socket: /run/mysqld/mysqld.sock }\n    user: drill_reader\n`,
    'test.yaml',
  );

test('the configuration file gives the home, the Temporal connection and the task queue when nothing else does', () => {
  const s = workerHostSettings({ config: file(), env: {}, machineHost: 'db-drill-1' });
  expect(s.home).toBe('/srv/rd');
  expect(s.paths).toEqual({ artifactRoot: '/srv/rd/artifacts', workRoot: '/srv/rd/work' });
  expect(s.temporal).toMatchObject({ address: 'temporal.internal:7233', namespace: 'drills', taskQueue: 'rd-dc1' });
  expect(s.host).toBe('db-drill-1');
  expect(s.capacity).toEqual({ sandboxes: 2 });
});

test('the environment wins over the file, and flags win over both', () => {
  const env = { RESTORE_DRILL_HOME: '/env/home', TEMPORAL_ADDRESS: 'env:7233', RESTORE_DRILL_TASK_QUEUE: 'env-queue', RESTORE_DRILL_HOST: 'env-host' };
  expect(workerHostSettings({ config: file(), env })).toMatchObject({ home: '/env/home', host: 'env-host', temporal: { address: 'env:7233', namespace: 'drills', taskQueue: 'env-queue' } });
  const flagged = workerHostSettings({ config: file(), env, flags: { home: '/flag/home', address: 'flag:7233', taskQueue: 'flag-queue' } });
  expect(flagged).toMatchObject({ home: '/flag/home', temporal: { address: 'flag:7233', taskQueue: 'flag-queue' } });
});

test('without a file: the defaults (~/.restore-drill, 127.0.0.1:7233, restore-drill, the machine name)', () => {
  const s = workerHostSettings({ env: { HOME: '/home/dba' }, machineHost: 'db1.example' });
  expect(s).toMatchObject({ home: '/home/dba/.restore-drill', host: 'db1.example', temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'restore-drill' } });
});

test('worker: names the host, its capacity and a scratch folder of its own; the memory size is read in MiB', () => {
  const s = workerHostSettings({ config: file('worker: { host: drill-b, capacity: { sandboxes: 3, memory: 12g }, workDir: /var/tmp/rd-work }\n'), env: {} });
  expect(s).toMatchObject({ host: 'drill-b', capacity: { sandboxes: 3, memoryMb: 12288 }, paths: { artifactRoot: '/srv/rd/artifacts', workRoot: '/var/tmp/rd-work' } });
});

test('bad worker keys are refused naming the fix', () => {
  const refused = (extra: string) => {
    try {
      file(extra);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a refusal');
  };
  expect(refused('worker: { host: "a b" }\n')).toContain('worker.host: expected a host name');
  expect(refused('worker: { capacity: { sandboxes: 0 } }\n')).toContain('worker.capacity.sandboxes');
  expect(refused('worker: { workDir: relative/work }\n')).toContain('worker.workDir: expected an absolute path');
  expect(refused('worker: { capasity: { sandboxes: 1 } }\n')).toContain('did you mean capacity?');
});

test('a machine name becomes a host name a task queue and a label accept', () => {
  expect(hostNameOf('db 1/rack:2')).toBe('db-1-rack-2');
  expect(hostNameOf('--')).toBe('worker');
});

test('a source names the task queue of its network zone; without one its drills run on the file\'s queue', () => {
  const config = parseConfigText(
    'temporal: { taskQueue: rd-dc1 }\nsources:\n  orders:\n    connection: { socket: /run/mysqld/mysqld.sock }\n    user: drill_reader\n    taskQueue: rd-dc2\n  billing:\n    connection: { socket: /run/mysqld/mysqld.sock }\n    user: drill_reader\n',
    'test.yaml',
  );
  expect(sourceTaskQueue(config, 'orders', 'rd-dc1')).toBe('rd-dc2');
  expect(sourceTaskQueue(config, 'billing', 'rd-dc1')).toBe('rd-dc1');
});
