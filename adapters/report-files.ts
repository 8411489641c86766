/**
 * Report files: every drill's report.json and report.md, kept in the artifact store with the
 * source's backups (`<source>/reports/<drill id>/`), and read back for `history`. report.md is
 * written first and report.json last, each whole at once, so a reader never sees half a report
 * and a folder without report.json is not history yet; writing again (a retry) replaces it with
 * the same content.
 */
import { artifactStoreOf, storeRef } from './artifact-store';
import type { EnginePaths } from './local-layout';
import { REPORT_JSON, REPORT_MD, StoreKeys, publishedFolders } from '../domain/artifacts/store-layout';
import { renderMarkdown } from '../domain/report/report';
import type { DrillReport } from '../domain/report/report';

export { REPORT_JSON, REPORT_MD };

/** Where a drill's report is: a folder on the worker host, or s3://bucket/key of its prefix. */
export function reportDir(paths: EnginePaths, source: string, drillId: string): string {
  return storeRef(paths, StoreKeys.report(source, drillId)).replace(/\/$/, '');
}

export interface PublishedReport {
  jsonPath: string;
  markdownPath: string;
}

export async function writeReport(paths: EnginePaths, report: DrillReport): Promise<PublishedReport> {
  const store = await artifactStoreOf(paths);
  const dir = StoreKeys.report(report.source, report.drillId);
  await store.write(`${dir}${REPORT_MD}`, renderMarkdown(report));
  await store.write(`${dir}${REPORT_JSON}`, JSON.stringify(report, null, 2) + '\n');
  return { jsonPath: store.ref(`${dir}${REPORT_JSON}`), markdownPath: store.ref(`${dir}${REPORT_MD}`) };
}

/** Reports of one source, newest first; unreadable ones are skipped (a report being written is not history yet). */
export async function readReports(paths: EnginePaths, source: string, limit = 50): Promise<DrillReport[]> {
  const store = await artifactStoreOf(paths);
  const prefix = StoreKeys.reports(source);
  const keys = (await store.list(prefix)).map((o) => o.key.slice(prefix.length));
  const reports: DrillReport[] = [];
  for (const folder of publishedFolders(keys, REPORT_JSON)) {
    const text = await store.read(`${prefix}${folder}/${REPORT_JSON}`).catch(() => undefined);
    if (text === undefined) continue;
    try {
      reports.push(JSON.parse(text.toString('utf8')) as DrillReport);
    } catch {
      /* a damaged file is not history */
    }
  }
  reports.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  return reports.slice(0, limit);
}

/** Keeps the newest `keep` reports of a source. */
export async function pruneReports(paths: EnginePaths, source: string, keep: number): Promise<number> {
  const store = await artifactStoreOf(paths);
  const all = await readReports(paths, source, Number.MAX_SAFE_INTEGER);
  const old = all.slice(keep);
  for (const r of old) await store.removeFolder(StoreKeys.report(source, r.drillId), REPORT_JSON);
  return old.length;
}
