/**
 * Deterministic, Docker-safe names and labels for everything restore-drill creates.
 *
 * Pure module, importable from workflow code: no Node built-ins (the Temporal workflow
 * sandbox cannot load `crypto`), no I/O, no clock, no randomness. Same input → same name, so
 * a retried activity finds (and removes or reuses) what its previous attempt created instead
 * of leaking a second container.
 */

import { DrillError } from './errors';

/**
 * Label keys put on every container and volume the engine creates. The janitor and the
 * UnsafeTarget guard only ever touch objects carrying `managed=true`.
 */
export const SandboxLabels = {
  /** Always `'true'`: the engine created this object and may delete it. */
  managed: 'io.restore-drill.managed',
  /** What the object is for: see {@link SandboxRole}. */
  role: 'io.restore-drill.role',
  /** The Temporal workflow id that owns the object. */
  run: 'io.restore-drill.run',
  /** ISO-8601 UTC time after which the janitor may remove the object. */
  expires: 'io.restore-drill.expires',
  /** The configured source name the object belongs to. */
  source: 'io.restore-drill.source',
  /** A sandbox's InnoDB buffer pool in MiB: named when the kernel kills it at its memory limit. */
  bufferPoolMb: 'io.restore-drill.buffer-pool-mb',
  /** `in-place` on a bisect's sandbox whose server restarts without the container (domain/flavors.ts serverCommand). */
  restarts: 'io.restore-drill.restarts',
} as const;

/** Value of the {@link SandboxLabels.managed} label. */
export const MANAGED_LABEL_VALUE = 'true';

export type SandboxRole = 'sandbox' | 'tool' | 'source';

/** The full label set for one object, ready for Docker's `Labels`. */
export function sandboxLabels(opts: {
  role: SandboxRole;
  run: string;
  expires: string;
  source: string;
}): Record<string, string> {
  return {
    [SandboxLabels.managed]: MANAGED_LABEL_VALUE,
    [SandboxLabels.role]: opts.role,
    [SandboxLabels.run]: opts.run,
    [SandboxLabels.expires]: opts.expires,
    [SandboxLabels.source]: opts.source,
  };
}

/**
 * Source names appear in file names, container names and workflow ids, so config must keep
 * them to this shape (lower case so that case-insensitive file systems cannot merge two).
 */
export const SOURCE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export function assertSourceName(source: string): void {
  if (!SOURCE_NAME_PATTERN.test(source)) {
    throw new DrillError(
      'BadConfig',
      `Source name ${JSON.stringify(source)} is not usable in file and container names: ` +
        'use 1-40 characters of a-z, 0-9, "-" or "_", starting with a letter or digit.',
      { details: { source } },
    );
  }
}

/** Docker container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; we also keep them ≤ 63 (a DNS label). */
export const CONTAINER_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
export const MAX_CONTAINER_NAME_LENGTH = 63;

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;

/**
 * FNV-1a 64-bit over the UTF-8 bytes of `input`, as 16 lower-case hex digits.
 *
 * Why not sha256: names are computed in workflow code too, and the workflow sandbox cannot
 * import Node's `crypto`. This is not a security hash; it only has to separate workflow ids
 * that slug to the same text. http://www.isthe.com/chongo/tech/comp/fnv/
 */
export function fnv1a64(input: string): string {
  let hash = FNV64_OFFSET;
  for (const byte of utf8Bytes(input)) {
    hash ^= BigInt(byte);
    hash = (hash * FNV64_PRIME) & MASK64;
  }
  return hash.toString(16).padStart(16, '0');
}

/** 8 hex digits: the two 32-bit halves of {@link fnv1a64} folded with XOR. */
export function shortHash(input: string): string {
  const h = BigInt('0x' + fnv1a64(input));
  const folded = (h >> 32n) ^ (h & 0xffffffffn);
  return folded.toString(16).padStart(8, '0');
}

function utf8Bytes(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000)
      out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else
      out.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
  }
  return out;
}

/** Lower-case `[a-z0-9-]` slug of at most `max` characters, no leading/trailing `-`. */
export function slugify(input: string, max: number): string {
  return input
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
}

/** `<prefix>-<slug>-<hash>` fitted into 63 characters; `<prefix>-<hash>` when the slug is empty. */
function hashedName(prefix: string, readable: string, hashInput: string): string {
  const hash = shortHash(hashInput);
  const room = MAX_CONTAINER_NAME_LENGTH - prefix.length - hash.length - 2;
  const slug = slugify(readable, room);
  return slug === '' ? `${prefix}-${hash}` : `${prefix}-${slug}-${hash}`;
}

/**
 * The sandbox container of one drill, e.g. `rd-sandbox-drill-university-20261121t183000z-1a2b3c4d`.
 * The hash is over the exact workflow id, so ids that slug alike still get different names.
 */
export function sandboxName(workflowId: string): string {
  return hashedName('rd-sandbox', workflowId, workflowId);
}

/**
 * A short-lived tool container (dump, restore, replay) for one step of one drill, e.g.
 * `rd-tool-restore-drill-university-20261121t183000z-0f9e8d7c`.
 */
export function toolContainerName(workflowId: string, step: string): string {
  // The separator cannot occur in a step slug, so (id, step) pairs cannot collide by concatenation.
  return hashedName('rd-tool', `${step}-${workflowId}`, `${workflowId}\u0000${step}`);
}

/**
 * `YYYYMMDDTHHMMSSZ` in UTC for an ISO-8601 time (any offset; milliseconds dropped).
 * Throws BadConfig for text that is not a time.
 */
export function compactUtc(isoTime: string): string {
  const ms = Date.parse(isoTime);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(isoTime) || Number.isNaN(ms)) {
    throw new DrillError('BadConfig', `${JSON.stringify(isoTime)} is not an ISO-8601 date-time.`, {
      details: { time: isoTime },
    });
  }
  const iso = new Date(ms).toISOString(); // 2026-11-21T18:30:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** Base file name (no extension) of a backup artifact, e.g. `university-20261121T183000Z`. */
export function artifactBaseName(source: string, isoTime: string): string {
  assertSourceName(source);
  return `${source}-${compactUtc(isoTime)}`;
}

/** Workflow id of the scheduled drill of `source` at `isoTime`, e.g. `drill-university-20261121T183000Z`. */
export function drillWorkflowId(source: string, isoTime: string): string {
  assertSourceName(source);
  return `drill-${source}-${compactUtc(isoTime)}`;
}

/**
 * The source lock's workflow id: one per source, never per drill. Every drill holds it while it
 * runs; the janitor's retention skips a source whose lock is held.
 */
export function sourceLockWorkflowId(source: string): string {
  return `source-lock-${source}`;
}

const ATTEMPT_SUFFIX = /\.attempt-\d+$/;

/**
 * The name of one attempt's work (tool container step, partial artifact folder): a backup taken
 * again after an interruption never writes where an earlier attempt, or its leftover tool
 * container, may still be writing. The first attempt keeps the plain name.
 */
export function attemptName(base: string, attempt = 1): string {
  return attempt > 1 ? `${base}.attempt-${attempt}` : base;
}

/** The name {@link attemptName} was given. */
export function withoutAttempt(name: string): string {
  return name.replace(ATTEMPT_SUFFIX, '');
}

/** The longest path a unix socket can have on Linux: `sun_path` holds 108 bytes with its NUL (unix(7)). */
export const UNIX_SOCKET_PATH_MAX = 107;

/**
 * BadConfig when a socket the engine will connect to has a longer path than a unix socket
 * allows: the connection would fail with ENOENT, retried until the sandbox times out, while the
 * server answers fine on its side. The drill id is part of the path, so a long workflow id under
 * a deep RESTORE_DRILL_HOME reaches the limit.
 */
export function checkSocketPathLength(socketPath: string): void {
  const bytes = new TextEncoder().encode(socketPath).length;
  if (bytes > UNIX_SOCKET_PATH_MAX)
    throw new DrillError(
      'BadConfig',
      `the sandbox socket ${socketPath} is ${bytes} bytes long, more than the ${UNIX_SOCKET_PATH_MAX} a unix socket path can hold: use a shorter RESTORE_DRILL_HOME or a shorter drill id`,
      { details: { socketPath, bytes } },
    );
}
