/** What the team-backup suites share: the CLI run the way a team's cron job runs it (`--json`, exit code). */
import { execFile } from 'node:child_process';
import path from 'node:path';

export const CLI_MAIN = path.resolve(__dirname, '../../dist/cli/main.js');

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
