import {
  SEED_BATCH,
  UNIVERSITY_FUNCTIONS,
  UNIVERSITY_PROCEDURES,
  UNIVERSITY_TABLES,
  UNIVERSITY_TRIGGERS,
  UNIVERSITY_VIEWS,
  universityCollation,
  universitySchema,
  universitySeed,
  UniversityWriter,
} from '../../sample';
import { hex, ident, Prng, str } from '../../sample/sql';
import { photoBytes } from '../../sample/university-schema';
import type { Pool } from 'mysql2/promise';

describe('universitySchema', () => {
  it.each(['mysql', 'mariadb'] as const)('creates every object on %s, one statement per element', (flavor) => {
    const sql = universitySchema(flavor);
    expect(sql[0]).toBe('DROP DATABASE IF EXISTS `university`');
    expect(sql[1]).toMatch(/^CREATE DATABASE `university` CHARACTER SET utf8mb4 COLLATE /);
    const creates = (kind: string): string[] =>
      sql.flatMap((s) => [...s.matchAll(new RegExp(`^CREATE ${kind} \`university\`\\.\`(\\w+)\``, 'g'))].map((m) => m[1]!));
    expect(creates('TABLE').sort()).toEqual([...UNIVERSITY_TABLES].sort());
    expect(creates('VIEW').sort()).toEqual([...UNIVERSITY_VIEWS].sort());
    expect(creates('FUNCTION').sort()).toEqual([...UNIVERSITY_FUNCTIONS].sort());
    expect(creates('PROCEDURE').sort()).toEqual([...UNIVERSITY_PROCEDURES].sort());
    expect(creates('TRIGGER').sort()).toEqual([...UNIVERSITY_TRIGGERS].sort());
    expect(sql).toHaveLength(
      2 +
        UNIVERSITY_TABLES.length +
        UNIVERSITY_VIEWS.length +
        UNIVERSITY_FUNCTIONS.length +
        UNIVERSITY_PROCEDURES.length +
        UNIVERSITY_TRIGGERS.length,
    );
    for (const s of sql) {
      expect(s).not.toMatch(/DELIMITER/i);
      expect(s.trim()).not.toMatch(/;$/);
    }
    // Every table InnoDB utf8mb4 with the flavor's collation.
    for (const s of sql.filter((x) => x.startsWith('CREATE TABLE'))) {
      expect(s).toContain(`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${universityCollation(flavor)}`);
    }
    // Stored functions are creatable with binary logging on.
    for (const s of sql.filter((x) => x.startsWith('CREATE FUNCTION'))) {
      expect(s).toMatch(/DETERMINISTIC|NO SQL|READS SQL DATA/);
    }
  });

  it('uses a collation that exists on each flavor', () => {
    expect(universityCollation('mysql')).toBe('utf8mb4_0900_ai_ci');
    expect(universityCollation('mariadb')).toBe('utf8mb4_unicode_ci');
    expect(universitySchema('mariadb').join('\n')).not.toContain('0900');
  });

  it('qualifies every object with the requested database name', () => {
    const sql = universitySchema('mysql', 'uni`2');
    expect(sql[0]).toBe('DROP DATABASE IF EXISTS `uni``2`');
    expect(sql.join('\n')).not.toContain('`university`');
  });
});

describe('universitySeed', () => {
  it('is deterministic: same seed, same SQL', () => {
    expect(universitySeed({ students: 250, courses: 30 }, 7)).toEqual(universitySeed({ students: 250, courses: 30 }, 7));
    expect(universitySeed({ students: 250, courses: 30 }, 7)).not.toEqual(universitySeed({ students: 250, courses: 30 }, 8));
  });

  it('batches rows into multi-row INSERTs', () => {
    const sql = universitySeed({ students: 250, courses: 30 });
    const count = (table: string): number => sql.filter((s) => s.startsWith(`INSERT INTO \`university\`.\`${table}\``)).length;
    expect(count('departments')).toBe(1);
    expect(count('courses')).toBe(1);
    expect(count('students')).toBe(Math.ceil(250 / SEED_BATCH));
    expect(count('enrollments')).toBeGreaterThanOrEqual(2);
    expect(count('grades')).toBeGreaterThanOrEqual(1);
    expect(count('audit_log')).toBe(1);
    const rows = (table: string): number =>
      sql
        .filter((s) => s.startsWith(`INSERT INTO \`university\`.\`${table}\``))
        .reduce((n, s) => n + s.split('\n').length - 1, 0);
    expect(rows('students')).toBe(250);
    expect(rows('courses')).toBe(30);
  });

  it('produces realistic, awkward data', () => {
    const all = universitySeed({ students: 300, courses: 20 }).join('\n');
    expect(all).toContain('𠮷野 花子'); // outside the BMP
    expect(all).toMatch(/[\u{1F300}-\u{1FAFF}]/u); // emoji
    expect(all).toMatch(/X'FFD8FFE00010[0-9A-F]*'/); // photos as hex literals
    expect(all).toContain("X''"); // empty, not NULL
    expect(all).toMatch(/O\\'Brien/); // quotes escaped
    expect(all).toContain('NULL');
  });

  it('handles empty sizes and rejects bad ones', () => {
    const sql = universitySeed({ students: 0, courses: 0 });
    expect(sql.every((s) => !s.includes('VALUES\n\n'))).toBe(true);
    expect(sql.some((s) => s.includes('`students`'))).toBe(false);
    expect(universitySeed({ students: 5, courses: 0 }).some((s) => s.includes('`enrollments`'))).toBe(false);
    expect(() => universitySeed({ students: -1, courses: 1 })).toThrow(/non-negative/);
    expect(() => universitySeed({ students: 1.5, courses: 1 })).toThrow(/non-negative/);
  });
});

describe('sample SQL helpers', () => {
  it('quotes strings, identifiers and bytes', () => {
    expect(str(null)).toBe('NULL');
    expect(str("a'b\\c\n\0")).toBe("'a\\'b\\\\c\\n\\0'");
    expect(ident('we`ird')).toBe('`we``ird`');
    expect(hex(Buffer.from([0, 0xff, 0x27]))).toBe("X'00FF27'");
    expect(hex(Buffer.alloc(0))).toBe("X''");
  });

  it('PRNG is deterministic and photos carry NUL and 0xFF', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const seqA = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    const photo = photoBytes(new Prng(1), 100);
    expect(photo.length).toBe(100);
    expect(photo.includes(0x00)).toBe(true);
    expect(photo.includes(0xff)).toBe(true);
    // Not valid UTF-8: a round trip through a JS string changes the bytes.
    expect(Buffer.from(photo.toString('utf8'), 'utf8').equals(photo)).toBe(false);
  });
});

describe('UniversityWriter (fake pool)', () => {
  /** A pool whose connections accept everything and return plausible rows. */
  function fakePool(opts: { failEvery?: number } = {}) {
    const log: string[] = [];
    let n = 0;
    let released = 0;
    const conn = {
      beginTransaction: async () => void log.push('BEGIN'),
      commit: async () => void log.push('COMMIT'),
      rollback: async () => void log.push('ROLLBACK'),
      release: () => void released++,
      destroy: () => undefined,
      query: async (sql: string) => {
        n++;
        if (opts.failEvery && n % opts.failEvery === 0) {
          throw Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK' });
        }
        log.push(sql.split(/\s+/).slice(0, 3).join(' '));
        if (sql.startsWith('SELECT MIN(id)')) return [[{ lo: 1, hi: 10 }], []];
        if (sql.startsWith('SELECT id')) return [[{ id: 3 }], []];
        if (sql.startsWith('SELECT code')) return [[{ code: 'CS101' }], []];
        if (sql.startsWith('SELECT student_id')) return [[{ student_id: 3 }], []];
        return [{ insertId: 11, affectedRows: 1 }, []];
      },
    };
    const pool = { getConnection: async () => conn } as unknown as Pool;
    return { pool, log, releasedCount: () => released };
  }

  it('runOnce commits one transaction and is deterministic per seed', async () => {
    const a = fakePool();
    const b = fakePool();
    const wa = new UniversityWriter(a.pool, { seed: 3 });
    const wb = new UniversityWriter(b.pool, { seed: 3 });
    for (let i = 0; i < 30; i++) {
      await wa.runOnce();
      await wb.runOnce();
    }
    expect(a.log).toEqual(b.log);
    expect(wa.stats).toEqual({ transactions: 30, errors: 0 });
    expect(a.log.filter((l) => l === 'BEGIN')).toHaveLength(30);
    expect(a.log.filter((l) => l === 'COMMIT')).toHaveLength(30);
    expect(a.releasedCount()).toBe(30);
  });

  it('counts errors, rolls back, and the loop survives them and stops cleanly', async () => {
    const f = fakePool({ failEvery: 4 });
    const w = new UniversityWriter(f.pool, { intervalMs: 1 });
    await expect(async () => {
      for (let i = 0; i < 10; i++) await w.runOnce();
    }).rejects.toThrow(/Deadlock/);
    w.start();
    await new Promise((r) => setTimeout(r, 100));
    const stats = await w.stop();
    expect(w.isRunning).toBe(false);
    expect(stats.transactions).toBeGreaterThan(0);
    expect(stats.errors).toBeGreaterThan(1);
    expect(stats.lastError).toMatch(/^ER_LOCK_DEADLOCK: /);
    expect(f.log).toContain('ROLLBACK');
    const after = f.log.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(f.log.length).toBe(after); // nothing runs after stop()
    expect(await w.stop()).toEqual(stats); // idempotent
  });
});
