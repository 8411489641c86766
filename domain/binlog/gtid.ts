/**
 * GTID sets of both flavors, as text in and canonical text out.
 *
 * MySQL: a set of transactions per source UUID, `uuid:1-5:7-9,uuid2:1-3`, with the tagged
 * GTIDs of MySQL 8.3+ written `uuid:1-5:tag_a:1-3` (intervals after a tag belong to that
 * tag). "Contains" is set membership.
 *
 * MariaDB: a list of the last GTID per replication domain, `0-1-100,1-2-5`
 * (`domain-server-seq`). It is a position, not a set: a GTID is "contained" when its domain
 * is listed with a sequence number greater than or equal to the GTID's.
 *
 * Pure module, importable from workflow code: no Node built-ins, no I/O. Sequence numbers
 * are handled as bigint (MySQL GNOs and MariaDB seq_nos go up to 2^63-1 / 2^64-1).
 * Malformed text throws DrillError('BadConfig'); callers that parse user targets rethrow
 * with their own type.
 */

import { DrillError } from '../errors';
import type { Flavor } from '../types';

/** Inclusive interval of transaction numbers. */
export interface GnoInterval {
  start: bigint;
  end: bigint;
}

/** A parsed MySQL GTID set: uuid (lower case, dashed) → tag ('' when untagged) → intervals. */
export type MysqlGtidSet = Map<string, Map<string, GnoInterval[]>>;

/** One MySQL GTID. `tag` is '' for an untagged GTID. */
export interface MysqlGtid {
  uuid: string;
  tag: string;
  gno: bigint;
}

/** One MariaDB GTID. */
export interface MariadbGtid {
  domain: number;
  server: number;
  seq: bigint;
}

/** A parsed MariaDB GTID list: domain id → the last GTID of that domain. */
export type MariadbGtidList = Map<number, MariadbGtid>;

const MAX_GNO = (1n << 63n) - 1n;
const MAX_SEQ = (1n << 64n) - 1n;
const MAX_U32 = 0xffffffff;

const UUID_DASHED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_PLAIN = /^[0-9a-f]{32}$/i;
/** MySQL 8.3+ GTID tag: a letter or underscore, then up to 31 letters, digits or underscores. */
const TAG = /^[a-z_][a-z0-9_]{0,31}$/i;
const NUMBER = /^\d+$/;

function bad(what: string, text: string, why: string): DrillError {
  return new DrillError('BadConfig', `Invalid ${what} ${JSON.stringify(text)}: ${why}`, {
    details: { value: text },
  });
}

function stripSpace(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Lower-case dashed form of a 36- or 32-hex-digit UUID, or undefined if it is not one. */
export function normalizeUuid(text: string): string | undefined {
  if (UUID_DASHED.test(text)) return text.toLowerCase();
  if (UUID_PLAIN.test(text)) {
    const t = text.toLowerCase();
    return `${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20)}`;
  }
  return undefined;
}

function parseGno(text: string, whole: string, what: string): bigint {
  if (!NUMBER.test(text)) throw bad(what, whole, `${JSON.stringify(text)} is not a transaction number`);
  const n = BigInt(text);
  if (n < 1n || n > MAX_GNO) throw bad(what, whole, `transaction number ${text} is out of range 1..2^63-1`);
  return n;
}

// ---------------------------------------------------------------------------------------
// MySQL
// ---------------------------------------------------------------------------------------

/** Sorts and merges overlapping or adjacent intervals (in place on a copy). */
function mergeIntervals(intervals: GnoInterval[]): GnoInterval[] {
  const sorted = [...intervals].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: GnoInterval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && iv.start <= last.end + 1n) {
      if (iv.end > last.end) last.end = iv.end;
    } else {
      out.push({ start: iv.start, end: iv.end });
    }
  }
  return out;
}

/** Adds an inclusive interval to a parsed set, keeping its intervals sorted and merged. */
export function addInterval(set: MysqlGtidSet, uuid: string, tag: string, iv: GnoInterval): void {
  let tags = set.get(uuid);
  if (tags === undefined) {
    tags = new Map();
    set.set(uuid, tags);
  }
  const list = tags.get(tag);
  tags.set(tag, mergeIntervals(list === undefined ? [iv] : [...list, iv]));
}

/**
 * Parses `uuid:1-5:7,uuid2:1-3` (whitespace and newlines anywhere are ignored, UUIDs in any
 * case, with or without dashes; tags as in `uuid:tag:1-3`). The empty string is the empty set.
 */
export function parseMysqlGtidSet(text: string): MysqlGtidSet {
  const set: MysqlGtidSet = new Map();
  const compact = stripSpace(text);
  if (compact === '') return set;
  for (const entry of compact.split(',')) {
    if (entry === '') throw bad('MySQL GTID set', text, 'empty entry between commas');
    const parts = entry.split(':');
    const uuid = normalizeUuid(parts[0] ?? '');
    if (uuid === undefined) throw bad('MySQL GTID set', text, `${JSON.stringify(parts[0])} is not a UUID`);
    if (parts.length < 2) throw bad('MySQL GTID set', text, `no transaction numbers after ${uuid}`);
    let tag = '';
    let sawInterval = false;
    for (const part of parts.slice(1)) {
      if (TAG.test(part)) {
        if (tag !== '' && !sawInterval) throw bad('MySQL GTID set', text, `tag ${tag} has no transaction numbers`);
        tag = part.toLowerCase();
        sawInterval = false;
        continue;
      }
      const dash = part.indexOf('-');
      const start = parseGno(dash < 0 ? part : part.slice(0, dash), text, 'MySQL GTID set');
      const end = dash < 0 ? start : parseGno(part.slice(dash + 1), text, 'MySQL GTID set');
      if (end < start) throw bad('MySQL GTID set', text, `interval ${part} ends before it starts`);
      addInterval(set, uuid, tag, { start, end });
      sawInterval = true;
    }
    if (!sawInterval) throw bad('MySQL GTID set', text, `no transaction numbers after ${uuid}${tag ? ':' + tag : ''}`);
  }
  return set;
}

/** Canonical text: UUIDs sorted, untagged intervals first, then tags sorted; intervals merged. */
export function formatMysqlGtidSet(set: MysqlGtidSet): string {
  const entries: string[] = [];
  for (const uuid of [...set.keys()].sort()) {
    const tags = set.get(uuid)!;
    const parts: string[] = [uuid];
    for (const tag of [...tags.keys()].sort()) {
      const intervals = tags.get(tag)!;
      if (intervals.length === 0) continue;
      if (tag !== '') parts.push(tag);
      for (const iv of intervals) parts.push(iv.start === iv.end ? `${iv.start}` : `${iv.start}-${iv.end}`);
    }
    if (parts.length > 1) entries.push(parts.join(':'));
  }
  return entries.join(',');
}

/** Parses one MySQL GTID, `uuid:n` or `uuid:tag:n`. */
export function parseMysqlGtid(text: string): MysqlGtid {
  const compact = stripSpace(text);
  const parts = compact.split(':');
  const uuid = normalizeUuid(parts[0] ?? '');
  if (uuid === undefined) throw bad('MySQL GTID', text, `${JSON.stringify(parts[0])} is not a UUID`);
  if (parts.length === 2) return { uuid, tag: '', gno: parseGno(parts[1]!, text, 'MySQL GTID') };
  if (parts.length === 3 && TAG.test(parts[1]!)) {
    return { uuid, tag: parts[1]!.toLowerCase(), gno: parseGno(parts[2]!, text, 'MySQL GTID') };
  }
  throw bad('MySQL GTID', text, 'expected uuid:number or uuid:tag:number');
}

export function formatMysqlGtid(g: MysqlGtid): string {
  return g.tag === '' ? `${g.uuid}:${g.gno}` : `${g.uuid}:${g.tag}:${g.gno}`;
}

function mysqlSetContains(set: MysqlGtidSet, g: MysqlGtid): boolean {
  const intervals = set.get(g.uuid)?.get(g.tag) ?? [];
  return intervals.some((iv) => iv.start <= g.gno && g.gno <= iv.end);
}

// ---------------------------------------------------------------------------------------
// MariaDB
// ---------------------------------------------------------------------------------------

function parseU32(text: string, whole: string, what: string, field: string): number {
  if (!NUMBER.test(text)) throw bad(what, whole, `${field} ${JSON.stringify(text)} is not a number`);
  const n = Number(text);
  if (n > MAX_U32) throw bad(what, whole, `${field} ${text} is out of range 0..4294967295`);
  return n;
}

/** Parses one MariaDB GTID, `domain-server-seq`. */
export function parseMariadbGtid(text: string): MariadbGtid {
  const compact = stripSpace(text);
  const parts = compact.split('-');
  if (parts.length !== 3) throw bad('MariaDB GTID', text, 'expected domain-server-seq');
  const domain = parseU32(parts[0]!, text, 'MariaDB GTID', 'domain id');
  const server = parseU32(parts[1]!, text, 'MariaDB GTID', 'server id');
  if (!NUMBER.test(parts[2]!)) throw bad('MariaDB GTID', text, `sequence number ${JSON.stringify(parts[2])} is not a number`);
  const seq = BigInt(parts[2]!);
  if (seq > MAX_SEQ) throw bad('MariaDB GTID', text, `sequence number ${parts[2]} is out of range`);
  return { domain, server, seq };
}

export function formatMariadbGtid(g: MariadbGtid): string {
  return `${g.domain}-${g.server}-${g.seq}`;
}

/**
 * Parses `0-1-100,1-2-5`. When a domain appears more than once (as in `gtid_binlog_state`,
 * which lists one GTID per domain and server), the entry with the highest sequence number
 * is kept: that is the domain's position.
 */
export function parseMariadbGtidList(text: string): MariadbGtidList {
  const list: MariadbGtidList = new Map();
  const compact = stripSpace(text);
  if (compact === '') return list;
  for (const entry of compact.split(',')) {
    if (entry === '') throw bad('MariaDB GTID list', text, 'empty entry between commas');
    let g: MariadbGtid;
    try {
      g = parseMariadbGtid(entry);
    } catch (err) {
      throw bad('MariaDB GTID list', text, (err as Error).message);
    }
    const prev = list.get(g.domain);
    if (prev === undefined || g.seq > prev.seq) list.set(g.domain, g);
  }
  return list;
}

/** Canonical text: one entry per domain, sorted by domain id. */
export function formatMariadbGtidList(list: MariadbGtidList): string {
  return [...list.keys()]
    .sort((a, b) => a - b)
    .map((d) => formatMariadbGtid(list.get(d)!))
    .join(',');
}

// ---------------------------------------------------------------------------------------
// Flavor-generic API
// ---------------------------------------------------------------------------------------

/**
 * Which flavor a single GTID's text belongs to: `uuid:n` / `uuid:tag:n` is MySQL,
 * `d-s-n` is MariaDB. Undefined when it is neither (ranges and sets are not single GTIDs).
 */
export function detectGtidFlavor(text: string): Flavor | undefined {
  const t = text.trim();
  if (/^\d+-\d+-\d+$/.test(t)) {
    try {
      parseMariadbGtid(t);
      return 'mariadb';
    } catch {
      return undefined;
    }
  }
  try {
    parseMysqlGtid(t);
    return 'mysql';
  } catch {
    return undefined;
  }
}

/** Canonical text of a single GTID of the given flavor (lower-case UUID and tag). */
export function normalizeGtid(flavor: Flavor, gtid: string): string {
  return flavor === 'mysql' ? formatMysqlGtid(parseMysqlGtid(gtid)) : formatMariadbGtid(parseMariadbGtid(gtid));
}

/** Canonical text of a set: sorted, intervals merged (MySQL) / one entry per domain (MariaDB). */
export function normalizeGtidSet(flavor: Flavor, set: string): string {
  return flavor === 'mysql'
    ? formatMysqlGtidSet(parseMysqlGtidSet(set))
    : formatMariadbGtidList(parseMariadbGtidList(set));
}

/**
 * Whether `gtid` is in `set`. MariaDB: the domain is listed with seq_no >= the GTID's
 * (the server id is not compared: a domain's sequence is shared by all its servers).
 */
export function gtidSetContains(flavor: Flavor, set: string, gtid: string): boolean {
  if (flavor === 'mysql') return mysqlSetContains(parseMysqlGtidSet(set), parseMysqlGtid(gtid));
  const g = parseMariadbGtid(gtid);
  const entry = parseMariadbGtidList(set).get(g.domain);
  return entry !== undefined && g.seq <= entry.seq;
}

/** Whether two sets have the same canonical text. */
export function gtidSetEquals(flavor: Flavor, a: string, b: string): boolean {
  return normalizeGtidSet(flavor, a) === normalizeGtidSet(flavor, b);
}

/**
 * The canonical set after `gtid` is applied. MariaDB: the GTID replaces its domain's entry
 * unless that entry already has a higher sequence number.
 */
export function addGtid(flavor: Flavor, set: string, gtid: string): string {
  if (flavor === 'mysql') {
    const s = parseMysqlGtidSet(set);
    const g = parseMysqlGtid(gtid);
    addInterval(s, g.uuid, g.tag, { start: g.gno, end: g.gno });
    return formatMysqlGtidSet(s);
  }
  const list = parseMariadbGtidList(set);
  const g = parseMariadbGtid(gtid);
  const prev = list.get(g.domain);
  if (prev === undefined || g.seq >= prev.seq) list.set(g.domain, g);
  return formatMariadbGtidList(list);
}

/** Canonical union of two sets (MariaDB: per domain, the higher sequence number). */
export function gtidSetUnion(flavor: Flavor, a: string, b: string): string {
  if (flavor === 'mysql') {
    const s = parseMysqlGtidSet(a);
    for (const [uuid, tags] of parseMysqlGtidSet(b)) {
      for (const [tag, intervals] of tags) for (const iv of intervals) addInterval(s, uuid, tag, iv);
    }
    return formatMysqlGtidSet(s);
  }
  const list = parseMariadbGtidList(a);
  for (const g of parseMariadbGtidList(b).values()) {
    const prev = list.get(g.domain);
    if (prev === undefined || g.seq > prev.seq) list.set(g.domain, g);
  }
  return formatMariadbGtidList(list);
}

/** The set (MySQL) or per-domain position (MariaDB) of many GTIDs, built in one pass. */
export function gtidSetOf(flavor: Flavor, gtids: readonly string[]): string {
  if (flavor === 'mysql') {
    const set: MysqlGtidSet = new Map();
    for (const g of gtids) {
      const p = parseMysqlGtid(g);
      addInterval(set, p.uuid, p.tag, { start: p.gno, end: p.gno });
    }
    return formatMysqlGtidSet(set);
  }
  const list: MariadbGtidList = new Map();
  for (const g of gtids) {
    const p = parseMariadbGtid(g);
    const prev = list.get(p.domain);
    if (prev === undefined || p.seq > prev.seq) list.set(p.domain, p);
  }
  return formatMariadbGtidList(list);
}
