/**
 * The sample source database used by the demo and the tests: a small university.
 *
 * It is small but has what restores get wrong: utf8mb4 text outside the BMP, binary columns
 * with NUL/0xFF/invalid UTF-8 bytes, empty-vs-NULL blobs, DECIMAL, DATETIME(6) and TIMESTAMP(6),
 * ENUM, JSON, a STORED generated column, CHECK constraints, foreign keys with ON DELETE CASCADE,
 * triggers (one writes to another table, so a restore that fires triggers while loading data
 * ends up with extra audit rows), stored functions used by a trigger and a view, a stored
 * procedure and two views.
 *
 * Every statement is a single statement (no DELIMITER), fully qualified with the database
 * name, so a caller may run them one by one on any pooled connection without `USE`.
 * Bodies of routines and triggers use unqualified names: they resolve against their own
 * database, so a dump of them restores under another database name too.
 */

import type { Flavor } from '../domain/types';
import { hex, ident, num, Prng, sqlDate, sqlDateTime6, str } from './sql';

export const UNIVERSITY_TABLES = ['departments', 'courses', 'students', 'enrollments', 'grades', 'audit_log'] as const;
export type UniversityTable = (typeof UNIVERSITY_TABLES)[number];
export const UNIVERSITY_VIEWS = ['transcript', 'student_summary'] as const;
export const UNIVERSITY_FUNCTIONS = ['letter_for', 'credits_earned'] as const;
export const UNIVERSITY_PROCEDURES = ['enroll'] as const;
export const UNIVERSITY_TRIGGERS = ['grades_before_insert', 'grades_before_update', 'grades_after_insert'] as const;

/**
 * The collation of every table. MySQL's own default for utf8mb4 does not exist on MariaDB
 * 10.11, so each flavor gets its native one (both are case- and accent-insensitive).
 */
export function universityCollation(flavor: Flavor): string {
  switch (flavor) {
    case 'mysql':
      return 'utf8mb4_0900_ai_ci';
    case 'mariadb':
      return 'utf8mb4_unicode_ci';
  }
}

/** Statements that drop and re-create `database` with the university schema. */
export function universitySchema(flavor: Flavor, database = 'university'): string[] {
  const db = ident(database);
  const collation = universityCollation(flavor);
  const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`;

  return [
    `DROP DATABASE IF EXISTS ${db}`,
    `CREATE DATABASE ${db} CHARACTER SET utf8mb4 COLLATE ${collation}`,

    `CREATE TABLE ${db}.\`departments\` (
  \`id\` SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  \`code\` VARCHAR(8) NOT NULL,
  \`name\` VARCHAR(120) NOT NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uq_departments_code\` (\`code\`)
) ${table}`,

    `CREATE TABLE ${db}.\`courses\` (
  \`id\` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  \`code\` VARCHAR(16) NOT NULL,
  \`department_id\` SMALLINT UNSIGNED NOT NULL,
  \`title\` VARCHAR(200) NOT NULL,
  \`credits\` TINYINT UNSIGNED NOT NULL DEFAULT 5,
  \`capacity\` SMALLINT UNSIGNED NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uq_courses_code\` (\`code\`),
  KEY \`ix_courses_department\` (\`department_id\`),
  CONSTRAINT \`fk_courses_department\` FOREIGN KEY (\`department_id\`) REFERENCES \`departments\` (\`id\`),
  CONSTRAINT \`ck_courses_credits\` CHECK (\`credits\` BETWEEN 1 AND 30)
) ${table}`,

    `CREATE TABLE ${db}.\`students\` (
  \`id\` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  \`student_no\` VARCHAR(16) NOT NULL,
  \`full_name\` VARCHAR(200) NOT NULL,
  \`email\` VARCHAR(254) NULL,
  \`email_domain\` VARCHAR(254) GENERATED ALWAYS AS (SUBSTRING_INDEX(\`email\`, '@', -1)) STORED,
  \`gpa\` DECIMAL(3,2) NULL,
  \`photo\` BLOB NULL,
  \`enrolled_on\` DATE NOT NULL,
  \`updated_at\` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uq_students_student_no\` (\`student_no\`),
  KEY \`ix_students_full_name\` (\`full_name\`),
  KEY \`ix_students_email_domain\` (\`email_domain\`),
  CONSTRAINT \`ck_students_gpa\` CHECK (\`gpa\` BETWEEN 0 AND 4)
) ${table}`,

    `CREATE TABLE ${db}.\`enrollments\` (
  \`id\` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  \`student_id\` INT UNSIGNED NOT NULL,
  \`course_id\` INT UNSIGNED NOT NULL,
  \`status\` ENUM('active','completed','failed','withdrawn') NOT NULL DEFAULT 'active',
  \`enrolled_at\` DATETIME(6) NOT NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`uq_enrollments_student_course\` (\`student_id\`, \`course_id\`),
  KEY \`ix_enrollments_course_status\` (\`course_id\`, \`status\`),
  CONSTRAINT \`fk_enrollments_student\` FOREIGN KEY (\`student_id\`) REFERENCES \`students\` (\`id\`) ON DELETE CASCADE,
  CONSTRAINT \`fk_enrollments_course\` FOREIGN KEY (\`course_id\`) REFERENCES \`courses\` (\`id\`) ON DELETE CASCADE
) ${table}`,

    `CREATE TABLE ${db}.\`grades\` (
  \`id\` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  \`enrollment_id\` INT UNSIGNED NOT NULL,
  \`score\` DECIMAL(5,2) NOT NULL,
  \`letter\` CHAR(2) NULL,
  \`graded_at\` DATETIME(6) NOT NULL,
  \`remark\` TEXT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`ix_grades_enrollment\` (\`enrollment_id\`),
  KEY \`ix_grades_graded_at\` (\`graded_at\`),
  CONSTRAINT \`fk_grades_enrollment\` FOREIGN KEY (\`enrollment_id\`) REFERENCES \`enrollments\` (\`id\`) ON DELETE CASCADE,
  CONSTRAINT \`ck_grades_score\` CHECK (\`score\` BETWEEN 0 AND 100)
) ${table}`,

    `CREATE TABLE ${db}.\`audit_log\` (
  \`id\` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  \`created_at\` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  \`actor\` VARCHAR(128) NOT NULL,
  \`action\` VARCHAR(64) NOT NULL,
  \`entity\` VARCHAR(32) NOT NULL,
  \`entity_id\` BIGINT UNSIGNED NULL,
  \`details\` JSON NULL,
  \`note\` TEXT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`ix_audit_log_entity\` (\`entity\`, \`entity_id\`),
  KEY \`ix_audit_log_created_at\` (\`created_at\`)
) ${table}`,

    // Pure computation: DETERMINISTIC NO SQL, so it can be created with binary logging on
    // and log_bin_trust_function_creators off.
    `CREATE FUNCTION ${db}.\`letter_for\`(p_score DECIMAL(5,2)) RETURNS CHAR(2)
DETERMINISTIC NO SQL
COMMENT 'Letter grade of a 0-100 score'
RETURN CASE
  WHEN p_score IS NULL THEN NULL
  WHEN p_score >= 93 THEN 'A'
  WHEN p_score >= 90 THEN 'A-'
  WHEN p_score >= 87 THEN 'B+'
  WHEN p_score >= 83 THEN 'B'
  WHEN p_score >= 80 THEN 'B-'
  WHEN p_score >= 77 THEN 'C+'
  WHEN p_score >= 73 THEN 'C'
  WHEN p_score >= 70 THEN 'C-'
  WHEN p_score >= 60 THEN 'D'
  ELSE 'F'
END`,

    `CREATE FUNCTION ${db}.\`credits_earned\`(p_student_id INT UNSIGNED) RETURNS INT
READS SQL DATA
COMMENT 'Credits of the courses a student completed with a passing grade'
RETURN (
  SELECT COALESCE(SUM(c.credits), 0)
  FROM enrollments e
  JOIN courses c ON c.id = e.course_id
  WHERE e.student_id = p_student_id
    AND e.status = 'completed'
    AND EXISTS (SELECT 1 FROM grades g WHERE g.enrollment_id = e.id AND g.score >= 60)
)`,

    `CREATE PROCEDURE ${db}.\`enroll\`(IN p_student_id INT UNSIGNED, IN p_course_code VARCHAR(16))
MODIFIES SQL DATA
COMMENT 'Enrols a student in a course by code; re-activates a withdrawn enrollment'
BEGIN
  DECLARE v_course_id INT UNSIGNED;
  SET v_course_id = (SELECT id FROM courses WHERE code = p_course_code);
  IF v_course_id IS NULL THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'enroll: unknown course code';
  END IF;
  INSERT INTO enrollments (student_id, course_id, status, enrolled_at)
    VALUES (p_student_id, v_course_id, 'active', NOW(6))
    ON DUPLICATE KEY UPDATE status = IF(status = 'withdrawn', 'active', status);
END`,

    `CREATE TRIGGER ${db}.\`grades_before_insert\` BEFORE INSERT ON ${db}.\`grades\`
FOR EACH ROW
SET NEW.letter = COALESCE(NEW.letter, letter_for(NEW.score))`,

    `CREATE TRIGGER ${db}.\`grades_before_update\` BEFORE UPDATE ON ${db}.\`grades\`
FOR EACH ROW
BEGIN
  IF NEW.score <> OLD.score AND NEW.letter <=> OLD.letter THEN
    SET NEW.letter = letter_for(NEW.score);
  END IF;
END`,

    `CREATE TRIGGER ${db}.\`grades_after_insert\` AFTER INSERT ON ${db}.\`grades\`
FOR EACH ROW
INSERT INTO audit_log (created_at, actor, action, entity, entity_id, details)
VALUES (NEW.graded_at, 'trigger:grades_after_insert', 'grade.recorded', 'grades', NEW.id,
        JSON_OBJECT('enrollment_id', NEW.enrollment_id, 'score', NEW.score, 'letter', NEW.letter))`,

    `CREATE VIEW ${db}.\`transcript\` AS
SELECT s.id AS student_id, s.student_no, s.full_name, c.code AS course_code, c.title AS course_title,
       c.credits, e.status, g.score, g.letter, g.graded_at
FROM ${db}.\`students\` s
JOIN ${db}.\`enrollments\` e ON e.student_id = s.id
JOIN ${db}.\`courses\` c ON c.id = e.course_id
LEFT JOIN ${db}.\`grades\` g ON g.enrollment_id = e.id`,

    `CREATE VIEW ${db}.\`student_summary\` AS
SELECT s.id AS student_id, s.student_no, s.full_name, s.gpa, ${db}.\`credits_earned\`(s.id) AS credits_earned
FROM ${db}.\`students\` s`,
  ];
}

// ---------------------------------------------------------------------------------------------
// Seed data
// ---------------------------------------------------------------------------------------------

/** Rows per multi-row INSERT in the seed. */
export const SEED_BATCH = 100;

export const DEPARTMENTS: ReadonlyArray<readonly [code: string, name: string]> = [
  ['CS', 'Computer Science'],
  ['MATH', 'Mathématiques appliquées'],
  ['PHYS', 'Physik & Astronomie'],
  ['HIST', '历史学系 (History)'],
  ['LING', 'Linguistics — Ελληνικά, Русский, 日本語'],
  ['ART', 'Art & Design 🎨'],
  ['ECON', 'Economía y Empresa'],
  ['BIO', "Biologie / Life Sciences (King's)"],
];

const COURSE_TOPICS: readonly string[] = [
  'Introduction to Algorithms',
  'Théorie des nombres',
  'Quantenmechanik Ⅰ',
  '数据结构与算法',
  'Ελληνική φιλοσοφία',
  'Data Science 📊',
  "Shakespeare's Sonnets",
  'Économétrie avancée',
  'Русская литература XIX века',
  'Génétique & Évolution 🧬',
  'Linear Algebra',
  '日本語 初級',
  'Straße, Städte und Stadtplanung',
  'Història de Catalunya',
  'Machine Learning 🤖',
  'Probability "in practice"',
  'Łacina dla początkujących',
  'Astrophysics: stars ★ and galaxies',
];
const COURSE_LEVELS: readonly string[] = ['', ' (seminar)', ' — advanced', ' II', ' (online)'];

const FIRST_NAMES: readonly string[] = [
  'José', 'Zoë', 'Björn', 'Łukasz', 'Søren', 'François', 'Ngọc Anh', 'Ayşe', 'Đorđe', 'Siobhán',
  'Renée', "D'Arcy", 'Aarav', 'Oluwaseun', 'Иван', 'Αθηνά', '美咲', '伟', '민준', 'محمد',
  'Mary-Jane', 'Anna', 'Émile', 'Nuño', 'Thảo', 'Jürgen', 'Åsa', 'Kofi', 'Chloé', 'Liam',
];
const LAST_NAMES: readonly string[] = [
  'García', 'Müller', "O'Brien", 'Kowalski', 'Nørgaard', 'Dubois', 'Trần', 'Yılmaz', 'Petrović',
  'Ní Bhriain', 'Smith', '陈', '山田', '김', 'Ivanova', 'Παπαδόπουλος', 'Al-Fulan', 'Okonkwo',
  'Johansson', 'van der Berg', 'Nguyễn', 'Żółkiewska', 'Lefèvre', 'Gonçalves', 'Þórsdóttir',
];
/** Suffixes outside the BMP (4-byte UTF-8), including a ZWJ sequence and a skin tone modifier. */
const NAME_SUFFIXES: readonly string[] = [' 🎓', ' 🦄', ' 👩🏽‍🎓', ' 🇧🇪', ' 😀'];
const EMAIL_DOMAINS: readonly string[] = ['example.edu', 'students.example.edu', 'mail.example.org', 'münchen.example'];

/** Same mapping as the `letter_for` stored function: 0-4 grade points of a score. */
export function gradePointsFor(score: number): number {
  if (score >= 93) return 4;
  if (score >= 90) return 3.7;
  if (score >= 87) return 3.3;
  if (score >= 83) return 3;
  if (score >= 80) return 2.7;
  if (score >= 77) return 2.3;
  if (score >= 73) return 2;
  if (score >= 70) return 1.7;
  if (score >= 60) return 1;
  return 0;
}

/** A student name: accents, CJK, emoji; a 4-byte CJK name for the first student. */
export function studentName(prng: Prng, index: number): string {
  if (index === 0) return '𠮷野 花子'; // U+20BB7: outside the BMP, breaks 3-byte "utf8"
  const first = prng.pick(FIRST_NAMES);
  const last = prng.pick(LAST_NAMES);
  const suffix = prng.chance(0.1) ? prng.pick(NAME_SUFFIXES) : '';
  return `${first} ${last}${suffix}`;
}

function asciiSlug(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.+|\.+$/g, '');
  return slug.length > 0 ? slug : 'student';
}

/**
 * Fake photo bytes: a JPEG-ish header (FF D8 FF E0 00 10 "JFIF" 00), random bytes, an invalid
 * UTF-8 pair (C3 28), a quote, a backslash, and the FF D9 trailer. Always contains 0x00 and 0xFF.
 */
export function photoBytes(prng: Prng, length: number): Buffer {
  const header = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);
  const middle = Buffer.concat([Buffer.from([0xc3, 0x28, 0x27, 0x5c, 0x00, 0x0d, 0x0a, 0x1a]), prng.bytes(Math.max(0, length - 21))]);
  const trailer = Buffer.from([0xff, 0xd9]);
  return Buffer.concat([header, middle, trailer]);
}

interface SeedCourse {
  id: number;
  code: string;
  credits: number;
}

function batches<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

function insertStatements(target: string, columns: readonly string[], rows: readonly string[][]): string[] {
  const head = `INSERT INTO ${target} (${columns.map((c) => ident(c)).join(', ')}) VALUES\n`;
  return batches(rows, SEED_BATCH).map((batch) => head + batch.map((r) => `(${r.join(', ')})`).join(',\n'));
}

const DAY_MS = 86_400_000;
const EPOCH_ENROL = Date.UTC(2018, 8, 1); // 2018-09-01

/**
 * Deterministic INSERTs for a freshly created schema: departments, `courses` courses,
 * `students` students (each enrolled in up to 6 courses), their grades (letters set by the
 * trigger, which also writes one audit row per grade) and a few audit rows.
 * Same arguments, same statements. Ids are explicit, so auto-increment continues after them.
 */
export function universitySeed(rows: { students: number; courses: number }, seed = 1, database = 'university'): string[] {
  const { students, courses } = rows;
  for (const [k, v] of Object.entries(rows)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`universitySeed: ${k} must be a non-negative integer, got ${v}`);
  }
  const db = ident(database);
  const t = (name: UniversityTable): string => `${db}.${ident(name)}`;
  const prng = new Prng(seed);
  const statements: string[] = [];

  // Departments.
  statements.push(
    ...insertStatements(
      t('departments'),
      ['id', 'code', 'name'],
      DEPARTMENTS.map(([code, name], i) => [num(i + 1), str(code), str(name)]),
    ),
  );

  // Courses.
  const courseRows: SeedCourse[] = [];
  const courseValues: string[][] = [];
  for (let i = 0; i < courses; i++) {
    const dept = prng.int(0, DEPARTMENTS.length - 1);
    const code = `${DEPARTMENTS[dept]![0]}${100 + i}`;
    const credits = prng.pick([3, 5, 5, 6, 8, 10]);
    const title = prng.pick(COURSE_TOPICS) + prng.pick(COURSE_LEVELS);
    const capacity = prng.chance(0.2) ? null : prng.int(2, 40) * 10;
    courseRows.push({ id: i + 1, code, credits });
    courseValues.push([num(i + 1), str(code), num(dept + 1), str(title), num(credits), num(capacity)]);
  }
  statements.push(
    ...insertStatements(t('courses'), ['id', 'code', 'department_id', 'title', 'credits', 'capacity'], courseValues),
  );

  // Students, enrollments, grades.
  const studentValues: string[][] = [];
  const enrollmentValues: string[][] = [];
  const gradeValues: string[][] = [];
  let enrollmentId = 0;
  let gradeId = 0;
  for (let i = 0; i < students; i++) {
    const id = i + 1;
    const name = studentName(prng, i);
    const email = prng.chance(0.12)
      ? null
      : `${asciiSlug(name)}${prng.int(1, 99)}@${prng.pick(EMAIL_DOMAINS)}`;
    const photoRoll = prng.next();
    const photo = photoRoll < 0.2 ? null : photoRoll < 0.23 ? Buffer.alloc(0) : photoBytes(prng, prng.int(24, 600));
    const enrolledOn = new Date(EPOCH_ENROL + prng.int(0, 6 * 365) * DAY_MS); // up to 2024-08
    const updatedAt = new Date(enrolledOn.getTime() + prng.int(0, 300) * DAY_MS + prng.int(0, DAY_MS - 1));

    // Enrollments in distinct courses.
    const scores: number[] = [];
    const nCourses = Math.min(courseRows.length, prng.int(0, 6));
    const chosen = new Set<number>();
    while (chosen.size < nCourses) chosen.add(prng.int(0, courseRows.length - 1));
    for (const ci of [...chosen].sort((a, b) => a - b)) {
      enrollmentId++;
      const roll = prng.next();
      const status = roll < 0.55 ? 'completed' : roll < 0.65 ? 'failed' : roll < 0.92 ? 'active' : 'withdrawn';
      const enrolledAt = new Date(enrolledOn.getTime() + prng.int(0, 180) * DAY_MS + prng.int(0, DAY_MS - 1));
      enrollmentValues.push([
        num(enrollmentId),
        num(id),
        num(courseRows[ci]!.id),
        str(status),
        str(sqlDateTime6(enrolledAt, prng.int(0, 999))),
      ]);
      if (status === 'completed' || status === 'failed') {
        gradeId++;
        const edge = prng.next();
        let score: number;
        if (edge < 0.02) score = status === 'failed' ? 0 : 100;
        else if (status === 'failed') score = prng.int(0, 5999) / 100;
        else score = prng.int(6000, 10000) / 100;
        scores.push(score);
        const gradedAt = new Date(enrolledAt.getTime() + prng.int(30, 150) * DAY_MS + prng.int(0, DAY_MS - 1));
        const remark = prng.chance(0.7)
          ? null
          : prng.pick([
              'Excellent travail 👏',
              'Needs to revise chapter 3\n(see notes)',
              'Plagiat-Verdacht ausgeräumt',
              '优秀',
              "Late submission; 10% penalty — ask the dean's office",
              'Path: C:\\exams\\final.pdf',
              '',
            ]);
        // letter NULL: the BEFORE INSERT trigger fills it from letter_for(score). A few pass/fail.
        const letter = prng.chance(0.03) ? (score >= 60 ? 'P' : 'NP') : null;
        gradeValues.push([num(gradeId), num(enrollmentId), num(score, 2), str(letter), str(sqlDateTime6(gradedAt, prng.int(0, 999))), str(remark)]);
      }
    }
    const gpa =
      scores.length === 0 ? null : Math.round((scores.reduce((a, s) => a + gradePointsFor(s), 0) / scores.length) * 100) / 100;

    studentValues.push([
      num(id),
      str(`U${String(id).padStart(7, '0')}`),
      str(name),
      str(email),
      num(gpa, 2),
      hex(photo),
      str(sqlDate(enrolledOn)),
      str(sqlDateTime6(updatedAt, prng.int(0, 999))),
    ]);
  }
  statements.push(
    ...insertStatements(
      t('students'),
      ['id', 'student_no', 'full_name', 'email', 'gpa', 'photo', 'enrolled_on', 'updated_at'],
      studentValues,
    ),
    ...insertStatements(t('enrollments'), ['id', 'student_id', 'course_id', 'status', 'enrolled_at'], enrollmentValues),
    ...insertStatements(t('grades'), ['id', 'enrollment_id', 'score', 'letter', 'graded_at', 'remark'], gradeValues),
  );

  // A few hand-written audit rows (the grades trigger adds one per grade).
  const audits: Array<{ at: string; actor: string; action: string; entity: string; entityId: number | null; details: unknown; note: string }> = [
    { at: '2024-09-01 08:00:00.000000', actor: 'registrar@example.edu', action: 'term.opened', entity: 'term', entityId: 2024, details: { term: '2024/25', note: 'Rentrée 🎒' }, note: 'Term opened' },
    { at: '2024-09-02 09:15:30.250000', actor: 'admin', action: 'import', entity: 'students', entityId: null, details: { source: 'seed', seed, students, courses }, note: `Seeded ${students} students, ${courses} courses` },
    {
      at: '2024-09-03 12:00:00.000001',
      actor: 'Zoë Þórsdóttir',
      action: 'note',
      entity: 'courses',
      entityId: 1,
      details: { quote: 'it\'s "fine"', path: 'C:\\tmp\\x', emoji: '🧪', nested: { list: [1, 2.5, null, true] } },
      note: 'Ünïcödé\ttab\nnewline \\ backslash \'quote\' "double" 日本語 😀',
    },
  ];
  const auditRows = audits.map((a) => [str(a.at), str(a.actor), str(a.action), str(a.entity), num(a.entityId), str(JSON.stringify(a.details)), str(a.note)]);
  statements.push(
    ...insertStatements(t('audit_log'), ['created_at', 'actor', 'action', 'entity', 'entity_id', 'details', 'note'], auditRows),
  );

  return statements;
}
