/**
 * What the team-backup suites share: the CLI run the way a team's cron job runs it (`--json`,
 * exit code), and the project's S3 server (deploy/s3.sh) with its key files by path.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';

const RD_HOME = process.env.RESTORE_DRILL_HOME ?? path.join(os.homedir(), '.restore-drill');
export const CLI_MAIN = path.resolve(__dirname, '../../dist/cli/main.js');
export const S3_ENDPOINT = `http://127.0.0.1:${process.env.RD_S3_PORT ?? 9768}`;
export const KEY_FILE = path.join(RD_HOME, 's3-credentials', 'access-key-id');
export const SECRET_FILE = path.join(RD_HOME, 's3-credentials', 'secret-access-key');

export interface CliResult {
  code: number;
  json: { ok: boolean; failure?: { type: string; message: string }; [k: string]: unknown };
  stderr: string;
}

/** `restore-drill --json <args>`; output that is not JSON comes back as an `unparsable` failure with both streams. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_MAIN, '--json', ...args], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      let json: CliResult['json'];
      try {
        json = JSON.parse(stdout) as CliResult['json'];
      } catch {
        json = { ok: false, failure: { type: 'unparsable', message: `${stdout}\n${stderr}` } };
      }
      resolve({ code: typeof code === 'number' ? code : 1, json, stderr });
    });
  });
}

/** A client with the S3 server's own keys, for putting a team's backups where the engine will find them. */
export async function s3Admin(): Promise<S3Client> {
  return new S3Client({
    endpoint: S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: (await readFile(KEY_FILE, 'utf8')).trim(), secretAccessKey: (await readFile(SECRET_FILE, 'utf8')).trim() },
  });
}
