/**
 * Where a team's own backups are: a folder on the worker host or a prefix in an S3-compatible
 * bucket, optionally narrowed by a file-name pattern. Pure parsing: the object-store adapter
 * lists and reads what this describes.
 *
 * A location names one folder; its sub-folders are not searched. The last path segment is a
 * file-name pattern when it holds `*` or `?` (`/backups/orders/*.sql.gz`), otherwise it is part
 * of the folder (`/backups/orders` and `/backups/orders/` are the same location).
 */
import { DrillError, DrillErrorTypes } from '../errors';

/** A secret held by the worker: a file or an environment variable (config's secretRefSchema). */
export type CredentialRef = { file: string } | { env: string };

/** How to reach an S3-compatible server; meaningful for s3:// locations only. */
export interface S3LocationOptions {
  /** `http(s)://host[:port]` of an S3-compatible server; absent: AWS S3 itself. */
  endpoint?: string;
  region?: string;
  /** Bucket in the path instead of the host name; default: true with an endpoint, false without. */
  forcePathStyle?: boolean;
  accessKeyIdRef?: CredentialRef;
  secretAccessKeyRef?: CredentialRef;
}

export interface LocalBackupLocation {
  kind: 'local';
  /** Absolute, without a trailing slash ('/' for the root). */
  folder: string;
  /** File-name pattern (`*`, `?`); absent: every file of the folder. */
  pattern?: string;
}

export interface S3BackupLocation {
  kind: 's3';
  bucket: string;
  /** '' or a key prefix ending in '/'. */
  prefix: string;
  pattern?: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Absent: the SDK's own chain (instance role, AWS_* variables), for AWS itself. */
  credentials?: { accessKeyId: CredentialRef; secretAccessKey: CredentialRef };
}

export type BackupLocation = LocalBackupLocation | S3BackupLocation;

export const DEFAULT_S3_REGION = 'us-east-1';

const EXAMPLES = 'an absolute folder (/backups/orders/), a pattern in one (/backups/orders/*.sql.gz) or s3://bucket/prefix/';

function badLocation(location: string, problem: string): DrillError {
  return new DrillError(DrillErrorTypes.BadConfig, `backup location '${location}': ${problem}`, { details: { location } });
}

export function parseBackupLocation(location: string, options: S3LocationOptions = {}): BackupLocation {
  if (location.trim() === '') throw badLocation(location, `empty; write ${EXAMPLES}`);
  if (location !== location.trim()) throw badLocation(location, 'leading or trailing spaces; remove them');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(location)?.[1]?.toLowerCase();
  if (scheme === 's3') return parseS3(location, options);
  if (scheme === 'http' || scheme === 'https') {
    throw badLocation(location, 'an S3 location is written s3://bucket/prefix/, with the server\'s http(s) address in the endpoint option');
  }
  if (scheme !== undefined && location.startsWith(`${scheme}://`)) {
    throw badLocation(location, `${scheme}:// is not supported; write ${EXAMPLES}`);
  }
  return parseLocal(location, options);
}

function parseLocal(location: string, options: S3LocationOptions): LocalBackupLocation {
  const given = Object.keys(options).filter((k) => options[k as keyof S3LocationOptions] !== undefined);
  if (given.length > 0) throw badLocation(location, `${given.join(', ')} apply to s3:// locations only; remove them for a local folder`);
  if (!location.startsWith('/')) {
    throw badLocation(location, "a relative path; write the folder's absolute path on the worker host (the worker does not run in the config's folder)");
  }
  const { folderSegments, pattern } = splitSegments(location, location.slice(1));
  return { kind: 'local', folder: `/${folderSegments.join('/')}`, ...(pattern !== undefined && { pattern }) };
}

function parseS3(location: string, options: S3LocationOptions): S3BackupLocation {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(location);
  if (!match) throw badLocation(location, 'an S3 location is written s3://bucket/prefix/ (two slashes after s3:)');
  const bucket = match[1]!;
  if (bucket === '') throw badLocation(location, 'no bucket; write s3://bucket/prefix/');
  if (bucket.includes('@')) {
    throw badLocation(location, 'credentials never go into a location; reference them with accessKeyIdRef and secretAccessKeyRef');
  }
  if (bucket.includes(':')) throw badLocation(location, `'${bucket}' looks like a server address; put it in the endpoint option and write s3://bucket/prefix/`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/.test(bucket)) {
    throw badLocation(location, `'${bucket}' is not a bucket name (3-63 letters, digits, '.', '-' or '_', starting and ending with a letter or digit)`);
  }
  const { folderSegments, pattern } = splitSegments(location, match[2] ?? '');
  const endpoint = options.endpoint === undefined ? undefined : parseEndpoint(location, options.endpoint);
  const region = options.region ?? DEFAULT_S3_REGION;
  if (!/^[a-z0-9-]+$/.test(region)) throw badLocation(location, `region '${region}' is not a region name such as us-east-1`);
  return {
    kind: 's3',
    bucket,
    prefix: folderSegments.map((s) => `${s}/`).join(''),
    ...(pattern !== undefined && { pattern }),
    ...(endpoint !== undefined && { endpoint }),
    region,
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    ...credentialsOf(location, options),
  };
}

function parseEndpoint(location: string, endpoint: string): string {
  const m = /^(https?):\/\/([^/?#\s]+)\/?$/.exec(endpoint);
  if (!m) throw badLocation(location, `endpoint '${endpoint}' is not http(s)://host[:port] (no path)`);
  if (m[2]!.includes('@')) throw badLocation(location, 'the endpoint carries credentials; reference them with accessKeyIdRef and secretAccessKeyRef instead');
  return `${m[1]}://${m[2]}`;
}

function credentialsOf(location: string, options: S3LocationOptions): Pick<S3BackupLocation, 'credentials'> {
  const { accessKeyIdRef, secretAccessKeyRef } = options;
  if (accessKeyIdRef && secretAccessKeyRef) return { credentials: { accessKeyId: accessKeyIdRef, secretAccessKey: secretAccessKeyRef } };
  if (accessKeyIdRef || secretAccessKeyRef) {
    throw badLocation(location, `${accessKeyIdRef ? 'secretAccessKeyRef' : 'accessKeyIdRef'} is missing; give both references or neither (neither: the SDK's own credential chain)`);
  }
  return {};
}

/** Folder segments and the optional pattern of a path without its leading '/' (or scheme and bucket). */
function splitSegments(location: string, path: string): { folderSegments: string[]; pattern?: string } {
  const segments = path.split('/').filter((s) => s !== ''); // '//' is one separator
  if (segments.some((s) => s === '.' || s === '..')) throw badLocation(location, "'.' and '..' are not allowed; write the folder itself");
  const last = segments.at(-1);
  const pattern = last !== undefined && hasWildcard(last) ? last : undefined;
  const folderSegments = pattern === undefined ? segments : segments.slice(0, -1);
  const wildFolder = folderSegments.find(hasWildcard);
  if (wildFolder !== undefined) {
    throw badLocation(location, `'${wildFolder}' is a pattern in a folder name; patterns (* and ?) match file names only, in the last segment`);
  }
  return { folderSegments, ...(pattern !== undefined && { pattern }) };
}

export function hasWildcard(text: string): boolean {
  return /[*?]/.test(text);
}

/**
 * Whether a file name matches a pattern: `*` any run of characters, `?` exactly one, anything
 * else itself (case-sensitive). Neither wildcard matches '/'. Linear backtracking on the last
 * `*`, so no pattern can make it slow (unlike a regular expression built from the pattern).
 */
export function matchesFileName(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    const c = pattern[p];
    if (c === '*') {
      starP = p++;
      starN = n;
    } else if (c !== undefined && name[n] !== '/' && (c === '?' || c === name[n])) {
      p++;
      n++;
    } else if (starP >= 0 && name[starN] !== '/') {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** The location as a user wrote it, for messages (never holds a secret: references only). */
export function formatBackupLocation(location: BackupLocation): string {
  const tail = location.pattern ?? '';
  if (location.kind === 'local') return `${location.folder === '/' ? '' : location.folder}/${tail}`;
  return `s3://${location.bucket}/${location.prefix}${tail}${location.endpoint ? ` at ${location.endpoint}` : ''}`;
}

/** A reference as a message may name it: where the secret is, never what it is. */
export function describeCredentialRef(ref: CredentialRef): string {
  return 'file' in ref ? `file ${ref.file}` : `environment variable ${ref.env}`;
}
