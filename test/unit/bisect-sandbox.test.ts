import { execFileSync } from 'node:child_process';
import { BISECT_SMALL_RESTORE_BYTES, bisectStartRedoLogMb } from '../../domain/bisect/snapshots';
import { SANDBOX_IN_PLACE_HOOK, quiesceScript, serverCommand, serverOptions } from '../../domain/flavors';

const MIB = 1024 * 1024;
const bashParses = (script: string) => execFileSync('bash', ['-n', '-c', script]);

describe("a bisect's sandbox", () => {
  it('starts with the small redo log when its restore is small, and with the drill one otherwise', () => {
    expect(bisectStartRedoLogMb({ sourceDataBytes: 5 * MIB })).toBe(64);
    expect(bisectStartRedoLogMb({ artifactBytes: 10 * MIB })).toBe(64);
    expect(bisectStartRedoLogMb({ sourceDataBytes: BISECT_SMALL_RESTORE_BYTES + 1 })).toBeUndefined();
    // Without the source's size, the artifact's compressed bytes count about 4 times.
    expect(bisectStartRedoLogMb({ artifactBytes: 100 * MIB })).toBeUndefined();
  });

  it('passes the redo log size to the server as the flavor names it', () => {
    expect(serverOptions('mariadb', 'sandbox', 1, { redoLogMb: 64 })).toContain('--innodb-log-file-size=64M');
    expect(serverOptions('mysql', 'sandbox', 1, { redoLogMb: 64 })).toContain('--innodb-redo-log-capacity=64M');
    expect(serverOptions('mariadb', 'sandbox', 1)).toContain('--innodb-log-file-size=1G');
    expect(serverOptions('mysql', 'sandbox', 1)).toContain('--innodb-redo-log-capacity=1G');
  });

  it('keeps its start script as PID 1, running a pending hook and starting the server again after each stop', () => {
    const script = serverCommand('mariadb', 'sandbox', 1, { redoLogMb: 64, restartInPlace: true })[2]!;
    bashParses(script);
    expect(script).not.toContain('exec "$server"');
    expect(script).toMatch(/while :; do\n {2}if \[ -f \S+ \]; then bash \S+; rm -f \S+; fi\n/);
    expect(SANDBOX_IN_PLACE_HOOK).toBe('/sock/hooks/on-start.sh');
    expect(script).toContain(`if [ "$stopping" = 1 ] || [ ! -f ${SANDBOX_IN_PLACE_HOOK} ]; then exit "$code"; fi`);
    expect(script).toContain('trap ');
    expect(script).toContain('--innodb-log-file-size=64M');
  });

  it("leaves a drill's sandbox with the server as PID 1", () => {
    const script = serverCommand('mysql', 'sandbox', 1)[2]!;
    bashParses(script);
    expect(script).toContain('exec "$server"');
    expect(script).not.toContain('while :; do');
  });
});

describe('quiescing a sandbox', () => {
  it('spares PID 1, the server named by its pid file and itself', () => {
    const script = quiesceScript();
    bashParses(script);
    expect(script).toContain('server=$(cat /sock/mysqld.pid');
    expect(script).toContain('case "$p" in 1|"$$"|"$server") ;;');
  });
});
