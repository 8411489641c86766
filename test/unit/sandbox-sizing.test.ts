import { SANDBOX_BUFFER_POOL_MIN_MB, sandboxBufferPoolMb, serverCommand } from '../../domain/flavors';

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
