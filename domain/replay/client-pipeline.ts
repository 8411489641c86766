/** The client replay: the binlog tool's runs piped into one client session. */

import type { ReplaySegment } from '../recovery/replay-segments';

/** POSIX shell quoting for a generated command line. */
function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shell text that replays all segments into one client: `( tool … ; tool … ) | client`.
 * MySQL documents this form for several binlog runs: separate client sessions would lose
 * temporary tables and session state between them.
 * https://dev.mysql.com/doc/refman/8.4/en/mysqlbinlog.html (processing multiple files)
 */
export function replayPipeline(tool: string, dir: string, segments: readonly ReplaySegment[], client: readonly string[]): string {
  const runs = segments.map((s) =>
    [tool, `--start-position=${s.from.position}`, `--stop-position=${s.to.position}`, ...s.files.map((f) => quote(`${dir.replace(/\/$/, '')}/${f}`))].join(' '),
  );
  return `( ${runs.join('; ')} ) | ${client.join(' ')}`;
}
