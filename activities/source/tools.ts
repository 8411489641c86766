/**
 * Runs the source flavor's own client tools (dump, binlog) in a short-lived, labelled tool
 * container. Credentials reach the tool through an option file in a private folder, never
 * through arguments or the environment (/proc/<pid>/cmdline is world-readable).
 */
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExecOptions, ExecResult } from '../../adapters/container-runtime';
import { resolveSecret } from '../../adapters/secrets';
import type { SourceSpec } from '../../config/schema';
import { optionFileContents } from '../../domain/dump/format';
import { sandboxLabels, toolContainerName } from '../../domain/naming';
import { toolContainerLimits } from '../../domain/resources';
import type { ActivityDeps } from '../deps';
import { drillWorkDir } from '../../adapters/local-layout';

export const TOOL_SOURCE_DIR = '/source';
export const TOOL_OPTION_FILE = '/secrets/client.cnf';

export interface SourceToolRun {
  drillId: string;
  step: string;
  source: SourceSpec;
  image: string;
  /** Arguments after the tool name; the option file is passed first by this function. */
  tool: string;
  args: string[];
  /** Extra `host:container[:ro]` binds, e.g. the archive staging folder. */
  binds?: string[];
}

export async function runSourceTool(deps: ActivityDeps, run: SourceToolRun, options: ExecOptions = {}): Promise<ExecResult> {
  const secretsDir = path.join(drillWorkDir(deps.paths, run.drillId), `secrets-${run.step}`);
  await mkdir(secretsDir, { recursive: true, mode: 0o700 });
  const password = await resolveSecret(run.source.passwordRef, `source ${run.source.name} password`);
  const conn = run.source.connection;
  const optionFile = optionFileContents({
    user: run.source.user,
    password: password ?? '',
    socket: 'socket' in conn ? path.posix.join(TOOL_SOURCE_DIR, path.basename(conn.socket)) : undefined,
    host: 'host' in conn ? conn.host : undefined,
    port: 'host' in conn ? conn.port : undefined,
  });
  await writeFile(path.join(secretsDir, 'client.cnf'), optionFile, { mode: 0o600 });
  const binds = [`${secretsDir}:/secrets:ro`, ...(run.binds ?? [])];
  if ('socket' in conn) binds.push(`${path.dirname(conn.socket)}:${TOOL_SOURCE_DIR}`);
  try {
    return await deps.runtime.run(
      {
        name: toolContainerName(run.drillId, run.step),
        image: run.image,
        cmd: [run.tool, `--defaults-extra-file=${TOOL_OPTION_FILE}`, ...run.args],
        labels: sandboxLabels({ role: 'tool', run: run.drillId, source: run.source.name, expires: new Date(Date.now() + 6 * 3600_000).toISOString() }),
        binds,
        // A socket needs no network at all; a loopback TCP source needs the host's loopback.
        networkMode: 'socket' in conn ? 'none' : 'host',
        env: ['TZ=UTC'],
        ...toolContainerLimits({ configured: run.source.tools, hostMemoryBytes: os.totalmem() }),
      },
      options,
    );
  } finally {
    await rm(secretsDir, { recursive: true, force: true });
    // The drill's folder too when nothing else is in it: a host that runs only the source side leaves nothing.
    await rmdir(path.dirname(secretsDir)).catch(() => undefined);
  }
}
