/**
 * Incremental physical backups (mariabackup `--incremental-basedir`): a chain is a full backup
 * and increments, each taken on the one before. Pure: which backup the next increment is taken
 * on, the checkpoints file mariabackup reads from its base, whether a chain's LSNs join up
 * (checked before anything is prepared), and the scripts that extract and prepare a chain.
 */
import { keyValues } from '../backups/format';
import { DrillError, DrillErrorTypes } from '../errors';

/** Increments per chain when the configuration names none: with nightly drills, a full backup each week. */
export const DEFAULT_MAX_INCREMENTS = 6;

/** What a backup's `xtrabackup_checkpoints` (`mariadb_backup_checkpoints`) says: its type and LSN range. */
export interface BackupLsn {
  /** `full-backuped` or `incremental` as taken; `full-prepared` / `log-applied` once prepared. */
  backupType: string;
  /** LSNs as decimal strings: they are 64-bit. */
  from: string;
  to: string;
  last?: string;
}

/** One backup of a chain as an increment's manifest records it, oldest (the full) first. */
export interface ChainMember {
  backupId: string;
  fromLsn: string;
  toLsn: string;
}

/** Reads a checkpoints file; undefined when it has no backup_type, from_lsn and to_lsn. */
export function parseCheckpoints(text: string | undefined): BackupLsn | undefined {
  const fields = keyValues(text);
  const backupType = fields.get('backup_type');
  const from = fields.get('from_lsn');
  const to = fields.get('to_lsn');
  if (!backupType || !from || !to || !/^\d+$/.test(from) || !/^\d+$/.test(to)) return undefined;
  const last = fields.get('last_lsn');
  return { backupType, from, to, ...(last && /^\d+$/.test(last) ? { last } : {}) };
}

/**
 * The checkpoints file of a base, as `mariabackup --incremental-basedir` reads it: it scans the
 * keys in this order (xtrabackup_read_metadata), and takes the increment's start from `to_lsn`.
 */
export function checkpointsFileText(lsn: BackupLsn): string {
  return [`backup_type = ${lsn.backupType}`, `from_lsn = ${lsn.from}`, `to_lsn = ${lsn.to}`, `last_lsn = ${lsn.last ?? lsn.to}`, ''].join('\n');
}

/** A published backup the next increment could be taken on: the engine's own mariabackup stream. */
export interface IncrementBaseCandidate {
  backupId: string;
  createdAt: string;
  /** Its checkpoints, recorded at take time; absent on backups taken before chains existed. */
  lsn?: BackupLsn;
  /** Its chain (the full first, itself last) when it is an increment. */
  chain?: ChainMember[];
  /** Chain members whose folder is gone (the caller looked). */
  missingMembers?: string[];
}

export type IncrementDecision = { take: 'incremental'; base: IncrementBaseCandidate; members: ChainMember[] } | { take: 'full'; reason: string };

/**
 * An increment is taken on the newest backup when it can carry one: it records its LSNs, its
 * chain is whole, and the chain has fewer than `maxIncrements` increments. Otherwise a full
 * backup starts a new chain, and the reason says why.
 */
export function chooseIncrementBase(candidates: readonly IncrementBaseCandidate[], maxIncrements: number): IncrementDecision {
  const newest = [...candidates].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.backupId.localeCompare(a.backupId))[0];
  if (!newest) return { take: 'full', reason: 'no physical backup of this source yet: a full backup starts the chain' };
  if (!newest.lsn) return { take: 'full', reason: `the newest physical backup ${newest.backupId} records no LSNs (taken before incremental backups): a full backup starts the chain` };
  if (newest.missingMembers?.length) return { take: 'full', reason: `the chain of the newest backup ${newest.backupId} is broken (${newest.missingMembers.join(', ')} gone): a full backup starts a new chain` };
  const members = newest.chain ?? [{ backupId: newest.backupId, fromLsn: newest.lsn.from, toLsn: newest.lsn.to }];
  if (members.length - 1 >= maxIncrements) return { take: 'full', reason: `the chain of ${newest.backupId} has ${members.length - 1} increments (maxIncrements ${maxIncrements}): a full backup starts a new chain` };
  return { take: 'incremental', base: newest, members };
}

/** What a drill found for one member of a chain: its checkpoints file, or why it is not there. */
export interface ChainLink {
  backupId: string;
  /** Its checkpoints file, from its manifest (a first, cheap pass) or from its artifact. */
  checkpoints?: BackupLsn;
  /** Why the member is not there (its folder or manifest is gone). */
  missing?: string;
}

const describeMember = (i: number, n: number): string => (i === 0 ? 'the full backup' : `increment ${i} of ${n - 1}`);

/**
 * Whether a chain can be prepared: every member there, the first a full backup, every later one
 * an increment that starts at the LSN where the one before it ends, and each member the backup
 * the chain recorded. Throws BrokenBackupChain naming the member and the LSNs, before any
 * prepare: a prepare of a broken chain fails half way or, worse, yields a datadir missing the
 * changes of the absent increment.
 */
export function checkBackupChain(tip: string, recorded: readonly ChainMember[], links: readonly ChainLink[]): void {
  const n = recorded.length;
  const broken = (what: string, details: Record<string, unknown>): never => {
    throw new DrillError(DrillErrorTypes.BrokenBackupChain, `backup chain of ${tip} (${n} backups) cannot be prepared: ${what}. The published backups are untouched; drill an earlier backup of the chain, or take a new full backup`, {
      details: { tip, chain: recorded.map((m) => m.backupId), ...details },
    });
  };
  if (links.length !== n) broken(`${links.length} members found for ${n} recorded`, {});
  recorded.forEach((member, i) => {
    const link = links[i]!;
    const name = `${describeMember(i, n)} ${member.backupId}`;
    if (link.backupId !== member.backupId) broken(`${name} is recorded at position ${i + 1}, but ${link.backupId} was found there (out of order)`, { member: member.backupId });
    if (link.missing) broken(`${name} is missing (${link.missing}); ${i === n - 1 ? 'it is the backup drilled' : 'the increments after it cannot be applied without it'}`, { missing: member.backupId });
    const lsn = link.checkpoints;
    if (!lsn) broken(`${name} has no readable checkpoints file (backup_type, from_lsn, to_lsn)`, { member: member.backupId });
    if (i === 0 && (lsn!.backupType !== 'full-backuped' || BigInt(lsn!.from) !== 0n))
      broken(`${name} is not an unprepared full backup (backup_type = ${lsn!.backupType}, from_lsn = ${lsn!.from})`, { member: member.backupId, backupType: lsn!.backupType });
    if (i > 0 && lsn!.backupType !== 'incremental') broken(`${name} is not an increment (backup_type = ${lsn!.backupType})`, { member: member.backupId, backupType: lsn!.backupType });
    if (lsn!.from !== member.fromLsn || lsn!.to !== member.toLsn)
      broken(`${name} covers LSN ${lsn!.from} to ${lsn!.to}, but the chain recorded ${member.fromLsn} to ${member.toLsn}: it is another backup than the one the chain was taken on`, { member: member.backupId, fromLsn: lsn!.from, toLsn: lsn!.to });
    if (i === 0) return;
    const previous = links[i - 1]!.checkpoints!;
    const from = BigInt(lsn!.from);
    const previousTo = BigInt(previous.to);
    const before = `${describeMember(i - 1, n)} ${recorded[i - 1]!.backupId}`;
    if (from > previousTo)
      broken(`${name} starts at LSN ${lsn!.from} but ${before} ends at LSN ${previous.to}: the changes between them are in no backup of the chain (an increment is missing between them)`, { member: member.backupId, fromLsn: lsn!.from, previousToLsn: previous.to });
    if (from < previousTo)
      broken(`${name} starts at LSN ${lsn!.from}, before ${before} ends (LSN ${previous.to}): it was taken on an earlier backup (out of order)`, { member: member.backupId, fromLsn: lsn!.from, previousToLsn: previous.to });
  });
}

/** The recorded chain's LSN ranges as links: the first, cheap pass of checkBackupChain, before any artifact is read. */
export function recordedLink(member: ChainMember, lsn: BackupLsn | undefined, missing?: string): ChainLink {
  return { backupId: member.backupId, ...(lsn ? { checkpoints: lsn } : {}), ...(missing ? { missing } : {}) };
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Extracts a chain's published streams into the drill's folder (the full into `target`, each
 * increment into `increments/<n>`) and prepares the full: the first stage. The streams are
 * only read; everything written is a copy that a retry removes and extracts again.
 */
export function chainExtractScript(opts: { artifacts: string[]; target: string; increments: string; useMemoryMb: number }): string {
  const [full, ...increments] = opts.artifacts;
  return [
    'set -eu -o pipefail',
    `gunzip -c ${q(full!)} | mbstream -x -C ${q(opts.target)}`,
    ...increments.flatMap((a, i) => [`mkdir -p ${q(`${opts.increments}/${i + 1}`)}`, `gunzip -c ${q(a)} | mbstream -x -C ${q(`${opts.increments}/${i + 1}`)}`]),
    `mariabackup --prepare --use-memory=${opts.useMemoryMb}M --target-dir=${q(opts.target)}`,
  ].join('\n');
}

/** Applies increment `n` (extracted by chainExtractScript) to the prepared full: one stage each, in order. */
export function chainIncrementScript(opts: { n: number; target: string; increments: string; useMemoryMb: number }): string {
  return ['set -eu', `mariabackup --prepare --use-memory=${opts.useMemoryMb}M --target-dir=${q(opts.target)} --incremental-dir=${q(`${opts.increments}/${opts.n}`)}`].join('\n');
}
