import { SANDBOX_BUFFER_POOL_MIN_MB, sandboxBufferPoolMb, sandboxSortBufferMb, serverCommand, serverOptions } from '../../domain/flavors';
import { SANDBOX_MEMORY_OVERHEAD_MB, sandboxMemoryLimitMb, sandboxMemoryRetry, sandboxOutOfMemoryMessage, sandboxSizingMemoryBytes, toolContainerLimits } from '../../domain/resources';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('sandbox buffer pool', () => {
  test("holds what the restore loads: the source's data and index size and a quarter more, in 128 MiB steps", () => {
    expect(sandboxBufferPoolMb({ sourceDataBytes: 2000 * MiB, artifactBytes: 300 * MiB, hostMemoryBytes: 24 * GiB })).toBe(2560);
  });

  test("estimated from the artifact (four times its size) when the source's size is not known", () => {
    expect(sandboxBufferPoolMb({ artifactBytes: 300 * MiB, hostMemoryBytes: 24 * GiB })).toBe(1280);
    expect(sandboxBufferPoolMb({ sourceDataBytes: 0, artifactBytes: 300 * MiB, hostMemoryBytes: 24 * GiB })).toBe(1280);
  });

  test('never below the minimum, also when the artifact size is unknown', () => {
    expect(sandboxBufferPoolMb({ artifactBytes: 5 * MiB, hostMemoryBytes: 24 * GiB })).toBe(SANDBOX_BUFFER_POOL_MIN_MB);
    expect(sandboxBufferPoolMb({ hostMemoryBytes: 24 * GiB })).toBe(SANDBOX_BUFFER_POOL_MIN_MB);
  });

  test('at most a quarter of the host memory, even on a small host', () => {
    expect(sandboxBufferPoolMb({ artifactBytes: 50 * GiB, hostMemoryBytes: 24 * GiB })).toBe(6144);
    expect(sandboxBufferPoolMb({ artifactBytes: 1 * GiB, hostMemoryBytes: 1 * GiB })).toBe(256);
  });

  test('a configured size is taken as it is', () => {
    expect(sandboxBufferPoolMb({ configuredMb: 384, artifactBytes: 50 * GiB, hostMemoryBytes: 24 * GiB })).toBe(384);
  });

  test('reaches the sandbox server command, and a source keeps its own', () => {
    expect(serverCommand('mariadb', 'sandbox', 1, { bufferPoolMb: 3712 })[2]).toContain('--innodb-buffer-pool-size=3712M');
    expect(serverCommand('mysql', 'sandbox', 1)[2]).toContain(`--innodb-buffer-pool-size=${SANDBOX_BUFFER_POOL_MIN_MB}M`);
    expect(serverCommand('mysql', 'source', 1, { bufferPoolMb: 3712 })[2]).toContain('--innodb-buffer-pool-size=256M');
  });
});

describe('container limits', () => {
  test("the sandbox's memory limit: as configured, else its buffer pool and 1 GiB for the server, at most half the host", () => {
    expect(sandboxMemoryLimitMb({ configuredMb: 700, bufferPoolMb: 4096, hostMemoryBytes: 24 * GiB })).toBe(700);
    expect(sandboxMemoryLimitMb({ bufferPoolMb: 512, hostMemoryBytes: 24 * GiB })).toBe(512 + SANDBOX_MEMORY_OVERHEAD_MB);
    expect(sandboxMemoryLimitMb({ bufferPoolMb: 6144, hostMemoryBytes: 8 * GiB })).toBe(4096);
  });

  test("a tool container's: as configured, else 2 GiB, more for a prepare given more memory, at most half the host", () => {
    expect(toolContainerLimits({ configured: { memoryMb: 300, cpus: 0.5 }, hostMemoryBytes: 24 * GiB })).toEqual({ memoryBytes: 300 * MiB, cpus: 0.5 });
    expect(toolContainerLimits({ hostMemoryBytes: 24 * GiB })).toEqual({ memoryBytes: 2048 * MiB });
    expect(toolContainerLimits({ prepareMemoryMb: 4096, hostMemoryBytes: 24 * GiB })).toEqual({ memoryBytes: 5120 * MiB });
    expect(toolContainerLimits({ hostMemoryBytes: 2 * GiB })).toEqual({ memoryBytes: 1024 * MiB });
  });
});

describe('a sandbox killed by the kernel at its memory limit', () => {
  test('is started once more with twice the memory when the host has it', () => {
    expect(sandboxMemoryRetry({ limitMb: 1024, hostMemoryBytes: 24 * GiB, hostAvailableBytes: 20 * GiB })).toEqual({ retry: true, memoryMb: 2048 });
  });

  test('with at most the configured maximum, or half the host by default', () => {
    expect(sandboxMemoryRetry({ limitMb: 1024, maxMemoryMb: 1536, hostMemoryBytes: 24 * GiB, hostAvailableBytes: 20 * GiB })).toEqual({ retry: true, memoryMb: 1536 });
    expect(sandboxMemoryRetry({ limitMb: 8192, hostMemoryBytes: 24 * GiB, hostAvailableBytes: 20 * GiB })).toEqual({ retry: true, memoryMb: 12288 });
  });

  test('and with what the host has available, less a reserve for the worker', () => {
    expect(sandboxMemoryRetry({ limitMb: 1024, hostMemoryBytes: 24 * GiB, hostAvailableBytes: 2048 * MiB })).toEqual({ retry: true, memoryMb: 1536 });
  });

  test('is not retried when that is not clearly more, and says what bound it', () => {
    const byMaximum = sandboxMemoryRetry({ limitMb: 1024, maxMemoryMb: 1024, hostMemoryBytes: 24 * GiB, hostAvailableBytes: 20 * GiB });
    expect(byMaximum).toEqual({ retry: false, reason: expect.stringContaining('sandbox.maxMemory allows 1024 MiB') });
    const byHost = sandboxMemoryRetry({ limitMb: 4096, hostMemoryBytes: 24 * GiB, hostAvailableBytes: 4096 * MiB });
    expect(byHost).toEqual({ retry: false, reason: expect.stringContaining('the host has 4096 MiB available') });
  });

  test('is told as a resource problem with its limit, not as a problem of the backup', () => {
    const message = sandboxOutOfMemoryMessage({ sandbox: 'rd-sandbox-x', limitMb: 384, during: 'restore', bufferPoolMb: 1024 });
    expect(message).toContain('out of memory at its limit of 384 MiB with an InnoDB buffer pool of 1024 MiB');
    expect(message).toContain('says nothing about the backup');
  });
});

test('a host that declares its sandboxes\' memory sizes each within its share: capacity.memory / sandboxes', () => {
  // 12 GiB for 3 sandboxes: each within 4 GiB, whatever the machine has.
  const sizing = sandboxSizingMemoryBytes({ hostMemoryBytes: 64 * GiB, capacityMemoryMb: 12 * 1024, sandboxes: 3 });
  expect(sandboxMemoryLimitMb({ bufferPoolMb: 16 * 1024, hostMemoryBytes: sizing })).toBe(4096);
  expect(sandboxMemoryLimitMb({ bufferPoolMb: 1024, hostMemoryBytes: sizing })).toBe(1024 + SANDBOX_MEMORY_OVERHEAD_MB);
  // Without a declared memory: the machine's, as before.
  expect(sandboxSizingMemoryBytes({ hostMemoryBytes: 64 * GiB })).toBe(64 * GiB);
});

describe('sandbox sort buffer (MariaDB index builds)', () => {
  test('a 32nd of the buffer pool, between 1 and 64 MiB', () => {
    expect(sandboxSortBufferMb(SANDBOX_BUFFER_POOL_MIN_MB)).toBe(16);
    expect(sandboxSortBufferMb(1280)).toBe(40);
    expect(sandboxSortBufferMb(4096)).toBe(64);
    expect(sandboxSortBufferMb(16)).toBe(1);
  });

  test("reaches a MariaDB sandbox's options, not a MySQL sandbox's nor a source's", () => {
    expect(serverOptions('mariadb', 'sandbox', 1, { bufferPoolMb: 2176 })).toContain('--innodb-sort-buffer-size=64M');
    expect(serverOptions('mariadb', 'sandbox', 1)).toContain('--innodb-sort-buffer-size=16M');
    expect(serverOptions('mysql', 'sandbox', 1).some((o) => o.startsWith('--innodb-sort-buffer-size'))).toBe(false);
    expect(serverOptions('mariadb', 'source', 1).some((o) => o.startsWith('--innodb-sort-buffer-size'))).toBe(false);
  });
});
