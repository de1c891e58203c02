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
  /** `CREATE TYPE "s"."e" AS ENUM (...)`: nothing to lock; skipped if an enum of that name exists (PostgreSQL has no IF NOT EXISTS for it). */
  | { readonly kind: 'creates-enum'; readonly type: TableName }
  /** `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS "i" ON "s"."t" ...`: an index on table `t` in schema `s`. */
  | { readonly kind: 'builds-index'; readonly table: TableName; readonly index: string }

/** A quoted identifier as Kysely's compiler writes it: `"..."`, with `""` for a quote inside. */
const QUOTED = String.raw`"((?:[^"]|"")*)"`
const QUALIFIED = `${QUOTED}\\.${QUOTED}`
const unquote = (text: string) => text.replaceAll('""', '"')
const tableFrom = (match: RegExpExecArray): TableName => ({ schema: unquote(match[1] ?? ''), name: unquote(match[2] ?? '') })

const SHAPES: readonly [RegExp, (match: RegExpExecArray) => StepTarget][] = [
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

/**
 * The existing tables a migration takes ACCESS EXCLUSIVE locks on (what every
 * `ALTER TABLE` and `DROP TABLE` it writes today takes), each once, in the order its steps first touch
 * them. Tables the same migration creates are left out: no one else can be
 * using them.
 */
export function tablesToLock(steps: readonly MigrationStep[]): TableName[] {
  const key = (table: TableName) => JSON.stringify([table.schema, table.name])
  const created = new Set<string>()
  const locked = new Map<string, TableName>()
  for (const step of steps) {
    const target = targetOf(step)
    if (target?.kind === 'creates-table') created.add(key(target.table))
    // From the SQL alone: the checksum covers a step's SQL, not its `lock` label, which an edit could change.
    const locks = target?.kind === 'locks-table' || target?.kind === 'adds-constraint'
    if (locks && !created.has(key(target.table))) {
      locked.set(key(target.table), target.table)
    }
  }
  return [...locked.values()]
}
