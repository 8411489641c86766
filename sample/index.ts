/** The sample university database: schema, deterministic seed and a live writer. */
export {
  universitySchema,
  universitySeed,
  universityCollation,
  gradePointsFor,
  UNIVERSITY_TABLES,
  UNIVERSITY_VIEWS,
  UNIVERSITY_FUNCTIONS,
  UNIVERSITY_PROCEDURES,
  UNIVERSITY_TRIGGERS,
  SEED_BATCH,
  type UniversityTable,
} from './university-schema';
export {
  UniversityWriter,
  WRITER_OPERATIONS,
  type WriterStats,
  type UniversityWriterOptions,
  type WriterOperation,
} from './university-writer';
