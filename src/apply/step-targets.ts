import type { TableRef } from '../diff/diff.js'
import type { MigrationStep } from '../migrations/migration.js'

/**
 * What a generated step acts on, read back from its SQL.
 *
 * Apply needs this to take every table lock a migration needs before its
 * first DDL statement (so it never holds one table while waiting for another),
 * and to leave out a `CREATE ... IF NOT EXISTS` whose object exists already
 * (which PostgreSQL still refuses to a role without CREATE on the schema).
 *
 * The SQL is what `schema:plan` renders (always schema-qualified, always
 * quoted by Kysely's compiler) and apply refuses a file whose steps changed
 * since they were written, so the shapes below are the only ones to read.
 * Anything else yields `null`: the step then runs as written, still under its
 * own lock timeout.
 */

/** A table as a step names it. */
export type TableName = TableRef

export type StepTarget =
  /** `CREATE TABLE IF NOT EXISTS "s"."t"`: nothing to lock; skipped if the table exists. */
  | { readonly kind: 'creates-table'; readonly table: TableName }
  /** `CREATE SCHEMA IF NOT EXISTS "s"`: skipped if the schema exists. */
  | { readonly kind: 'creates-schema'; readonly schema: string }
  /** `ALTER TABLE "s"."t" ...`, `DROP TABLE IF EXISTS "s"."t"`: locks that existing table. */
  | { readonly kind: 'locks-table'; readonly table: TableName }
  /** `ALTER TABLE "s"."t" ADD CONSTRAINT "c" ...`: locks the table; skipped if the constraint exists. */
  | { readonly kind: 'adds-constraint'; readonly table: TableName; readonly constraint: string }
  /**
   * `ALTER TABLE "s"."t" ADD CONSTRAINT "c" FOREIGN KEY (...) REFERENCES "s"."r" ...`: SHARE ROW
   * EXCLUSIVE on both tables (writes wait, reads go on); skipped if the constraint exists.
   */
  | { readonly kind: 'adds-foreign-key'; readonly table: TableName; readonly constraint: string; readonly referenced: TableName }
  /** `ALTER TABLE "s"."t" VALIDATE CONSTRAINT "c"`: SHARE UPDATE EXCLUSIVE, which lets reads and writes go on. */
  | { readonly kind: 'validates-constraint'; readonly table: TableName; readonly constraint: string }
  /** `CREATE TYPE "s"."e" AS ENUM (...)`: nothing to lock; skipped if an enum of that name exists (PostgreSQL has no IF NOT EXISTS for it). */
  | { readonly kind: 'creates-enum'; readonly type: TableName }
  /** `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS "i" ON "s"."t" ...`: an index on table `t` in schema `s`. */
  | { readonly kind: 'builds-index'; readonly table: TableName; readonly index: string }

/** A quoted identifier as Kysely's compiler writes it: `"..."`, with `""` for a quote inside. */
const QUOTED = String.raw`"((?:[^"]|"")*)"`
const QUALIFIED = `${QUOTED}\\.${QUOTED}`
const unquote = (text: string) => text.replaceAll('""', '"')
const tableFrom = (match: RegExpExecArray): TableName => ({ schema: unquote(match[1] ?? ''), name: unquote(match[2] ?? '') })

/** A quoted identifier in a list, not captured. */
const LISTED = String.raw`"(?:[^"]|"")*"`

const SHAPES: readonly [RegExp, (match: RegExpExecArray) => StepTarget][] = [
  [
    new RegExp(`^ALTER TABLE ${QUALIFIED} ADD CONSTRAINT ${QUOTED} FOREIGN KEY \\((?:${LISTED}, )*${LISTED}\\) REFERENCES ${QUALIFIED} `),
    (m) => ({
      kind: 'adds-foreign-key',
      table: tableFrom(m),
      constraint: unquote(m[3] ?? ''),
      referenced: { schema: unquote(m[4] ?? ''), name: unquote(m[5] ?? '') },
    }),
  ],
  [
    new RegExp(`^ALTER TABLE ${QUALIFIED} VALIDATE CONSTRAINT ${QUOTED}$`),
    (m) => ({ kind: 'validates-constraint', table: tableFrom(m), constraint: unquote(m[3] ?? '') }),
  ],
  [new RegExp(`^CREATE TABLE IF NOT EXISTS ${QUALIFIED} `), (m) => ({ kind: 'creates-table', table: tableFrom(m) })],
  [new RegExp(`^CREATE TYPE ${QUALIFIED} AS ENUM \\(`), (m) => ({ kind: 'creates-enum', type: tableFrom(m) })],
  [new RegExp(`^CREATE SCHEMA IF NOT EXISTS ${QUOTED}$`), (m) => ({ kind: 'creates-schema', schema: unquote(m[1] ?? '') })],
  [
    new RegExp(`^ALTER TABLE ${QUALIFIED} ADD CONSTRAINT ${QUOTED} `),
    (m) => ({ kind: 'adds-constraint', table: tableFrom(m), constraint: unquote(m[3] ?? '') }),
  ],
  [
    new RegExp(`^CREATE (?:UNIQUE )?INDEX CONCURRENTLY IF NOT EXISTS ${QUOTED} ON ${QUALIFIED} `),
    (m) => ({ kind: 'builds-index', index: unquote(m[1] ?? ''), table: { schema: unquote(m[2] ?? ''), name: unquote(m[3] ?? '') } }),
  ],
  [new RegExp(`^ALTER TABLE ${QUALIFIED} `), (m) => ({ kind: 'locks-table', table: tableFrom(m) })],
  [new RegExp(`^DROP TABLE IF EXISTS ${QUALIFIED}$`), (m) => ({ kind: 'locks-table', table: tableFrom(m) })],
]

export function targetOf(step: Pick<MigrationStep, 'sql'>): StepTarget | null {
  for (const [shape, target] of SHAPES) {
    const match = shape.exec(step.sql)
    if (match) return target(match)
  }
  return null
}

/** The table locks apply takes up front, weakest first; each conflicts with everything the ones before it conflict with. */
const MODES = ['SHARE UPDATE EXCLUSIVE', 'SHARE ROW EXCLUSIVE', 'ACCESS EXCLUSIVE'] as const

export type TableLockMode = (typeof MODES)[number]

export interface TableLock extends TableName {
  readonly mode: TableLockMode
}

/** The table locks a step's statement takes, read from its SQL. */
function locksOf(target: StepTarget | null): TableLock[] {
  switch (target?.kind) {
    case 'locks-table':
    case 'adds-constraint':
      return [{ ...target.table, mode: 'ACCESS EXCLUSIVE' }]
    case 'adds-foreign-key':
      return [
        { ...target.table, mode: 'SHARE ROW EXCLUSIVE' },
        { ...target.referenced, mode: 'SHARE ROW EXCLUSIVE' },
      ]
    case 'validates-constraint':
      // A foreign key's validation also takes ROW SHARE on the table it references, which only
      // EXCLUSIVE and ACCESS EXCLUSIVE conflict with (other DDL): left to the step's own lock_timeout.
      return [{ ...target.table, mode: 'SHARE UPDATE EXCLUSIVE' }]
    default:
      return []
  }
}

/**
 * The existing tables a migration locks (ACCESS EXCLUSIVE for most `ALTER
 * TABLE` and `DROP TABLE`; SHARE ROW EXCLUSIVE on both tables of a foreign key
 * added; SHARE UPDATE EXCLUSIVE for a validation), each once in the strongest
 * mode its steps need, in the order its steps first touch them. Tables the
 * same migration creates are left out: no one else can be using them.
 */
export function tablesToLock(steps: readonly MigrationStep[]): TableLock[] {
  const key = (table: TableName) => JSON.stringify([table.schema, table.name])
  const created = new Set<string>()
  const locked = new Map<string, TableLock>()
  for (const step of steps) {
    const target = targetOf(step)
    if (target?.kind === 'creates-table') created.add(key(target.table))
    // From the SQL alone: the checksum covers a step's SQL, not its `lock` label, which an edit could change.
    for (const lock of locksOf(target)) {
      const earlier = locked.get(key(lock))
      if (created.has(key(lock)) || (earlier && MODES.indexOf(earlier.mode) >= MODES.indexOf(lock.mode))) continue
      locked.set(key(lock), { schema: lock.schema, name: lock.name, mode: lock.mode })
    }
  }
  return [...locked.values()]
}
