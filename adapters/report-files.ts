/**
 * Report files: every drill's report.json and report.md, kept with the source's backup
 * artifacts (`<artifactRoot>/<source>/reports/<drill id>/`), and read back for `history`.
 * Written under a temporary name and renamed, so a reader never sees half a report; writing
 * again (a retry) replaces it with the same content.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EnginePaths } from './local-layout';
import { safeSegment, sourceArtifactDir } from './local-layout';
import { renderMarkdown } from '../domain/report/report';
import type { DrillReport } from '../domain/report/report';

export const REPORT_JSON = 'report.json';
export const REPORT_MD = 'report.md';

export function reportsDir(paths: EnginePaths, source: string): string {
  return path.join(sourceArtifactDir(paths, source), 'reports');
}

export function reportDir(paths: EnginePaths, source: string, drillId: string): string {
  return path.join(reportsDir(paths, source), safeSegment(drillId));
}

export interface PublishedReport {
  jsonPath: string;
  markdownPath: string;
}

export async function writeReport(paths: EnginePaths, report: DrillReport): Promise<PublishedReport> {
  const dir = reportDir(paths, report.source, report.drillId);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const jsonPath = path.join(dir, REPORT_JSON);
  const markdownPath = path.join(dir, REPORT_MD);
  for (const [file, content] of [
    [markdownPath, renderMarkdown(report)],
    [jsonPath, JSON.stringify(report, null, 2) + '\n'],
  ] as const) {
    const tmp = `${file}.tmp`;
    await writeFile(tmp, content, { mode: 0o640 });
    await rename(tmp, file);
  }
  return { jsonPath, markdownPath };
}

/** Reports of one source, newest first; unreadable ones are skipped (a report being written is not history yet). */
export async function readReports(paths: EnginePaths, source: string, limit = 50): Promise<DrillReport[]> {
  const dir = reportsDir(paths, source);
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const reports: DrillReport[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const text = await readFile(path.join(dir, e.name, REPORT_JSON), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      reports.push(JSON.parse(text) as DrillReport);
    } catch {
      /* a damaged file is not history */
    }
  }
  reports.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  return reports.slice(0, limit);
}

/** Keeps the newest `keep` reports of a source. */
export async function pruneReports(paths: EnginePaths, source: string, keep: number): Promise<number> {
  const all = await readReports(paths, source, Number.MAX_SAFE_INTEGER);
  const old = all.slice(keep);
  for (const r of old) await rm(reportDir(paths, source, r.drillId), { recursive: true, force: true });
  return old.length;
}
