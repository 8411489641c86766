/**
 * Keeps committing small, realistic transactions on a live university database so that its
 * binary logs grow while a drill runs. Framework-free: it only needs a mysql2/promise Pool.
 */

import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ident, Prng } from './sql';
import { photoBytes, studentName, UNIVERSITY_TABLES, type UniversityTable } from './university-schema';

export interface WriterStats {
  /** Transactions committed. */
  transactions: number;
  /** Transactions that failed (rolled back); the loop carries on. */
  errors: number;
  lastError?: string;
}

export interface UniversityWriterOptions {
  /** Database holding the university schema. Default `university`. */
  database?: string;
  /** Seed of the PRNG that picks operations and values. Default 1. */
  seed?: number;
  /** Pause between transactions in the background loop, in ms. Default 20. */
  intervalMs?: number;
}

/** The kinds of transaction the writer makes, with their relative weights. */
export const WRITER_OPERATIONS = [
  ['enrolStudent', 15],
  ['gradeEnrollment', 30],
  ['updateGpa', 15],
  ['updatePhoto', 10],
  ['dropEnrollment', 10],
  ['auditNote', 20],
] as const;
export type WriterOperation = (typeof WRITER_OPERATIONS)[number][0];

const AUDIT_NOTES: readonly string[] = [
  'Relevé de notes envoyé à l’étudiant ✉️',
  'Prüfungsamt: Nachfrist gewährt',
  '学籍信息已更新',
  'Bolsa de estudios aprobada 🎉',
  'Path C:\\registrar\\2025\\export.csv re-generated',
  'He said "it\'s fine" — it wasn\'t',
  'multi\nline\nnote\twith tab',
  'Ελληνικά · Русский · 한국어 · 🧑🏿‍💻',
];

const REMARKS: readonly (string | null)[] = [null, null, null, 'Bien joué 👍', 'Resit recommended', '再試験', "O'Brien's lab report: late"];

interface Bounds {
  lo: number;
  hi: number;
}

export class UniversityWriter {
  /** Live counters; `stop()` returns a copy. */
  readonly stats: WriterStats = { transactions: 0, errors: 0 };

  private readonly pool: Pool;
  private readonly db: string;
  private readonly intervalMs: number;
  private readonly prng: Prng;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(pool: Pool, opts: UniversityWriterOptions = {}) {
    this.pool = pool;
    this.db = ident(opts.database ?? 'university');
    this.intervalMs = Math.max(0, opts.intervalMs ?? 20);
    this.prng = new Prng(opts.seed ?? 1);
  }

  /** Whether the background loop is running. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the background loop (no-op if already running). */
  start(): void {
    if (this.running || this.loop) return;
    this.running = true;
    this.loop = this.runLoop().finally(() => {
      this.loop = undefined;
    });
  }

  /** Stops the loop; resolves once the in-flight transaction has finished, with the final stats. */
  async stop(): Promise<WriterStats> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
    this.wake = undefined;
    if (this.loop) await this.loop;
    return { ...this.stats };
  }

  /**
   * One random transaction. Failures are counted in `stats`, rolled back and re-thrown (the
   * background loop swallows them; a test calling this directly sees them).
   */
  async runOnce(): Promise<void> {
    const weights = WRITER_OPERATIONS.map(([, w]) => w);
    const op = WRITER_OPERATIONS[this.prng.weighted(weights)]![0];
    await this.run(op);
  }

  /** One transaction of the given kind (counted like `runOnce`). */
  async run(op: WriterOperation): Promise<void> {
    let conn: PoolConnection | undefined;
    let inTransaction = false;
    try {
      conn = await this.pool.getConnection();
      await conn.beginTransaction();
      inTransaction = true;
      await this[op](conn);
      await conn.commit();
      inTransaction = false;
      this.stats.transactions++;
    } catch (err) {
      this.stats.errors++;
      this.stats.lastError = describe(err);
      if (conn && inTransaction) {
        try {
          await conn.rollback();
        } catch {
          // The connection is unusable: do not hand it back to the pool.
          conn.destroy();
          conn = undefined;
        }
      }
      throw err;
    } finally {
      conn?.release();
    }
  }

  private async runLoop(): Promise<void> {
    while (this.running) {
      try {
        await this.runOnce();
      } catch {
        // Counted in stats by run(); keep going.
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.intervalMs);
      });
      this.wake = undefined;
      this.timer = undefined;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Operations. Each runs inside an open transaction on `conn`.
  // -------------------------------------------------------------------------------------------

  private t(name: UniversityTable): string {
    if (!UNIVERSITY_TABLES.includes(name)) throw new Error(`unknown table ${name}`);
    return `${this.db}.${ident(name)}`;
  }

  private async bounds(conn: PoolConnection, table: UniversityTable): Promise<Bounds | undefined> {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT MIN(id) AS lo, MAX(id) AS hi FROM ${this.t(table)}`);
    const row = rows[0];
    if (!row || row['lo'] === null) return undefined;
    return { lo: Number(row['lo']), hi: Number(row['hi']) };
  }

  /** Id of an existing row near a random point in [lo, hi], locked for update. */
  private async pickId(conn: PoolConnection, table: UniversityTable, where = '1=1'): Promise<number | undefined> {
    const b = await this.bounds(conn, table);
    if (!b) return undefined;
    const start = this.prng.int(b.lo, b.hi);
    const attempts: Array<[string, number[]]> = [
      [`id >= ? AND ${where}`, [start]],
      [where, []],
    ];
    for (const [cond, params] of attempts) {
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT id FROM ${this.t(table)} WHERE ${cond} ORDER BY id LIMIT 1 FOR UPDATE`,
        params,
      );
      if (rows[0]) return Number(rows[0]['id']);
    }
    return undefined;
  }

  private async audit(conn: PoolConnection, action: string, entity: string, entityId: number | null, details: unknown, note: string | null = null): Promise<void> {
    await conn.query(
      `INSERT INTO ${this.t('audit_log')} (actor, action, entity, entity_id, details, note) VALUES (?, ?, ?, ?, ?, ?)`,
      ['writer', action, entity, entityId, JSON.stringify(details), note],
    );
  }

  /** A new student, enrolled (through the `enroll` procedure) in 1-3 courses. */
  private async enrolStudent(conn: PoolConnection): Promise<void> {
    const name = studentName(this.prng, -1);
    const email = this.prng.chance(0.15) ? null : `w${this.prng.int(1, 1e9)}@students.example.edu`;
    const photo = this.prng.chance(0.3) ? null : photoBytes(this.prng, this.prng.int(24, 400));
    // student_no must be unique before the id is known: a per-connection placeholder (a
    // connection runs one transaction at a time), then W + the id.
    const [res] = await conn.query<ResultSetHeader>(
      `INSERT INTO ${this.t('students')} (student_no, full_name, email, photo, enrolled_on) VALUES (CONCAT('~', CONNECTION_ID()), ?, ?, ?, CURRENT_DATE)`,
      [name, email, photo],
    );
    const id = res.insertId;
    await conn.query(`UPDATE ${this.t('students')} SET student_no = CONCAT('W', LPAD(id, 8, '0')) WHERE id = ?`, [id]);
    const b = await this.bounds(conn, 'courses');
    const codes: string[] = [];
    if (b) {
      const n = this.prng.int(1, 3);
      for (let i = 0; i < n; i++) {
        const [rows] = await conn.query<RowDataPacket[]>(
          `SELECT code FROM ${this.t('courses')} WHERE id >= ? ORDER BY id LIMIT 1`,
          [this.prng.int(b.lo, b.hi)],
        );
        const code = rows[0]?.['code'] as string | undefined;
        if (code && !codes.includes(code)) {
          await conn.query(`CALL ${this.db}.\`enroll\`(?, ?)`, [id, code]);
          codes.push(code);
        }
      }
    }
    await this.audit(conn, 'student.enrolled', 'students', id, { name, courses: codes });
  }

  /** Grades an enrollment (the triggers set the letter and write an audit row). */
  private async gradeEnrollment(conn: PoolConnection): Promise<void> {
    const enrollmentId =
      (await this.pickId(conn, 'enrollments', "status = 'active'")) ?? (await this.pickId(conn, 'enrollments'));
    if (enrollmentId === undefined) return;
    const score = this.prng.int(0, 10000) / 100;
    await conn.query(
      `INSERT INTO ${this.t('grades')} (enrollment_id, score, graded_at, remark) VALUES (?, ?, NOW(6), ?)`,
      [enrollmentId, score.toFixed(2), this.prng.pick(REMARKS)],
    );
    await conn.query(`UPDATE ${this.t('enrollments')} SET status = ? WHERE id = ?`, [
      score >= 60 ? 'completed' : 'failed',
      enrollmentId,
    ]);
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT student_id FROM ${this.t('enrollments')} WHERE id = ?`, [
      enrollmentId,
    ]);
    if (rows[0]) await this.recomputeGpa(conn, Number(rows[0]['student_id']));
  }

  private async recomputeGpa(conn: PoolConnection, studentId: number): Promise<void> {
    await conn.query(
      `UPDATE ${this.t('students')} SET gpa = (
         SELECT ROUND(AVG(CASE
           WHEN g.score >= 93 THEN 4 WHEN g.score >= 90 THEN 3.7 WHEN g.score >= 87 THEN 3.3
           WHEN g.score >= 83 THEN 3 WHEN g.score >= 80 THEN 2.7 WHEN g.score >= 77 THEN 2.3
           WHEN g.score >= 73 THEN 2 WHEN g.score >= 70 THEN 1.7 WHEN g.score >= 60 THEN 1 ELSE 0 END), 2)
         FROM ${this.t('grades')} g JOIN ${this.t('enrollments')} e ON e.id = g.enrollment_id
         WHERE e.student_id = ?)
       WHERE id = ?`,
      [studentId, studentId],
    );
  }

  /** Recomputes one student's GPA from their grades, or (sometimes) sets an adjusted value. */
  private async updateGpa(conn: PoolConnection): Promise<void> {
    const id = await this.pickId(conn, 'students');
    if (id === undefined) return;
    if (this.prng.chance(0.7)) {
      await this.recomputeGpa(conn, id);
    } else {
      const gpa = this.prng.chance(0.1) ? null : (this.prng.int(0, 400) / 100).toFixed(2);
      await conn.query(`UPDATE ${this.t('students')} SET gpa = ? WHERE id = ?`, [gpa, id]);
      await this.audit(conn, 'gpa.adjusted', 'students', id, { gpa });
    }
  }

  /** Replaces a photo with random bytes (incl. NUL, 0xFF, invalid UTF-8), or clears it. */
  private async updatePhoto(conn: PoolConnection): Promise<void> {
    const id = await this.pickId(conn, 'students');
    if (id === undefined) return;
    const roll = this.prng.next();
    const photo = roll < 0.1 ? null : roll < 0.15 ? Buffer.alloc(0) : photoBytes(this.prng, this.prng.int(24, 2000));
    await conn.query(`UPDATE ${this.t('students')} SET photo = ? WHERE id = ?`, [photo, id]);
  }

  /** Deletes an enrollment (its grades go with it: ON DELETE CASCADE). */
  private async dropEnrollment(conn: PoolConnection): Promise<void> {
    const id = await this.pickId(conn, 'enrollments');
    if (id === undefined) return;
    await conn.query(`DELETE FROM ${this.t('enrollments')} WHERE id = ?`, [id]);
    await this.audit(conn, 'enrollment.dropped', 'enrollments', id, { reason: this.prng.pick(['withdrawn', 'duplicate', 'schedule clash']) });
  }

  /** A free-text audit row with utf8mb4 text, quotes, backslashes and newlines. */
  private async auditNote(conn: PoolConnection): Promise<void> {
    const note = this.prng.pick(AUDIT_NOTES);
    await this.audit(conn, 'note', 'audit', null, { n: this.prng.int(0, 1e6), text: note, flags: [true, null, 1.5] }, note);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
