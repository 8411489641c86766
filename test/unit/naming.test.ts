import {
  CONTAINER_NAME_PATTERN,
  MANAGED_LABEL_VALUE,
  SandboxLabels,
  UNIX_SOCKET_PATH_MAX,
  artifactBaseName,
  checkSocketPathLength,
  compactUtc,
  drillWorkflowId,
  fnv1a64,
  sandboxLabels,
  sandboxName,
  shortHash,
  toolContainerName,
} from '../../domain/naming';
import { errorType } from './expect-error';


describe('fnv1a64', () => {
  test('matches the published FNV-1a 64 test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });

  test('hashes the UTF-8 bytes of non-ASCII text', () => {
    // Reference values from a byte-level FNV-1a over UTF-8: "é" = C3 A9, "😀" = F0 9F 98 80.
    expect(fnv1a64('é')).toBe('0ac21707b7181e01');
    expect(fnv1a64('😀')).toBe('feff073875020288');
  });

  test('shortHash is 8 hex digits', () => {
    expect(shortHash('drill-x')).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe('sandboxName', () => {
  test('is deterministic for the same workflow id', () => {
    expect(sandboxName('drill-university-20261121T183000Z')).toBe(sandboxName('drill-university-20261121T183000Z'));
  });

  test('is prefix, slug and 8-hex hash', () => {
    expect(sandboxName('drill-university-20261121T183000Z')).toMatch(
      /^rd-sandbox-drill-university-20261121t183000z-[0-9a-f]{8}$/,
    );
  });

  test('differs for ids that slug to the same text', () => {
    const a = sandboxName('drill/University 1');
    const b = sandboxName('drill-university-1');
    expect(a.slice(0, -9)).toBe(b.slice(0, -9));
    expect(a).not.toBe(b);
  });

  test('stays a valid container name of at most 63 characters for a long id', () => {
    const name = sandboxName('drill-' + 'very-long-source-name-'.repeat(10) + '20261121T183000Z');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(CONTAINER_NAME_PATTERN);
    expect(name).not.toMatch(/--/);
  });

  test('falls back to prefix and hash when nothing of the id survives slugging', () => {
    expect(sandboxName('☃☃☃')).toMatch(/^rd-sandbox-[0-9a-f]{8}$/);
  });
});

describe('toolContainerName', () => {
  test('names the step and the run', () => {
    expect(toolContainerName('drill-university-20261121T183000Z', 'restore')).toMatch(
      /^rd-tool-restore-drill-university-20261121t183000z-[0-9a-f]{8}$/,
    );
  });

  test('differs per step of the same run', () => {
    expect(toolContainerName('drill-u-1', 'dump')).not.toBe(toolContainerName('drill-u-1', 'restore'));
  });

  test('keeps the step visible when the workflow id is long', () => {
    const name = toolContainerName('drill-' + 'x'.repeat(200), 'replay');
    expect(name.startsWith('rd-tool-replay-')).toBe(true);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(CONTAINER_NAME_PATTERN);
  });
});

describe('compactUtc', () => {
  test('drops separators and milliseconds', () => {
    expect(compactUtc('2026-11-21T18:30:00.123Z')).toBe('20261121T183000Z');
  });

  test('converts an offset time to UTC', () => {
    expect(compactUtc('2026-11-21T19:30:00+01:00')).toBe('20261121T183000Z');
  });

  test('rejects text that is not an ISO date-time as BadConfig', () => {
    expect(errorType(() => compactUtc('yesterday'))).toBe('BadConfig');
    expect(errorType(() => compactUtc('1700000000'))).toBe('BadConfig');
  });
});

describe('artifactBaseName and drillWorkflowId', () => {
  test('artifactBaseName is source and compact UTC time', () => {
    expect(artifactBaseName('university', '2026-11-21T18:30:00Z')).toBe('university-20261121T183000Z');
  });

  test('drillWorkflowId is drill, source and compact UTC time', () => {
    expect(drillWorkflowId('university', '2026-11-21T18:30:00Z')).toBe('drill-university-20261121T183000Z');
  });

  test('reject a source name that is not file- and container-safe', () => {
    expect(errorType(() => artifactBaseName('Uni Versity', '2026-11-21T18:30:00Z'))).toBe('BadConfig');
    expect(errorType(() => drillWorkflowId('../etc', '2026-11-21T18:30:00Z'))).toBe('BadConfig');
  });
});

describe('sandboxLabels', () => {
  test('carries every label key with managed=true', () => {
    expect(
      sandboxLabels({ role: 'sandbox', run: 'drill-u-1', expires: '2026-11-21T20:30:00Z', source: 'u' }),
    ).toEqual({
      'io.restore-drill.managed': 'true',
      'io.restore-drill.role': 'sandbox',
      'io.restore-drill.run': 'drill-u-1',
      'io.restore-drill.expires': '2026-11-21T20:30:00Z',
      'io.restore-drill.source': 'u',
    });
    expect(SandboxLabels.managed).toBe('io.restore-drill.managed');
    expect(MANAGED_LABEL_VALUE).toBe('true');
  });
});

describe('sandbox socket paths', () => {
  // The path a MariaDB 11.8 physical test built (109 bytes): the server answered, the worker's connect got ENOENT for 6 minutes.
  const tooLong = '/tmp/rd-it-physical-mariadb118-uRVM2t/work/chain-kill-physical-mariadb118-mxa6xlfp-7/sandbox-sock/mysqld.sock';

  test('a socket path longer than a unix socket holds is BadConfig, naming the path, its length and the limit', () => {
    expect(tooLong.length).toBe(109);
    expect(errorType(() => checkSocketPathLength(tooLong))).toBe('BadConfig');
    expect(() => checkSocketPathLength(tooLong)).toThrow(/109 bytes long, more than the 107/);
  });

  test('a path of exactly the limit is accepted; the limit counts bytes, not characters', () => {
    expect(() => checkSocketPathLength(`/${'a'.repeat(UNIX_SOCKET_PATH_MAX - 1)}`)).not.toThrow();
    expect(errorType(() => checkSocketPathLength(`/${'é'.repeat(60)}`))).toBe('BadConfig');
  });
});
