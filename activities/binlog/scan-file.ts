/** Reads an archived or staged binlog file from disk through the domain's scanner. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { BinlogFileSummary, BinlogTransaction } from '../../domain/binlog/events';
import { BinlogFileScanner } from '../../domain/binlog/scanner';

export interface ScannedBinlog {
  transactions: BinlogTransaction[];
  summary: BinlogFileSummary;
  bytes: number;
  sha256: string;
}

/**
 * Reads a binlog file in steps, checking every event (ArtifactCorrupt on a bad checksum) and
 * hashing it, and yields between steps: a file of hundreds of MB scanned in one go would block
 * the worker's heartbeats past their timeout on a busy host.
 */
export async function scanBinlogFileInSteps(file: string, filePath: string): Promise<ScannedBinlog> {
  const scanner = new BinlogFileScanner(file, { crc32 });
  const hash = createHash('sha256');
  const transactions: BinlogTransaction[] = [];
  let bytes = 0;
  for await (const chunk of createReadStream(filePath, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) {
    for (const t of scanner.push(chunk)) transactions.push(t);
    hash.update(chunk);
    bytes += chunk.length;
    await new Promise((r) => setImmediate(r));
  }
  const end = scanner.finish();
  return { transactions: [...transactions, ...end.transactions], summary: end.summary, bytes, sha256: hash.digest('hex') };
}

/** sha256 and size of a file, for naming a file that changed. */
export async function hashFile(filePath: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const c of createReadStream(filePath) as AsyncIterable<Buffer>) {
    hash.update(c);
    bytes += c.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
