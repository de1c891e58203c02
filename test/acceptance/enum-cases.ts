import { c, defineSchema, enumType, index, table } from '../../src/dsl/index.js'
import type { AcceptanceCase } from './cases.js'

/**
 * Enum types declared with `enumType(...)`: created before the tables that
 * use them, labels added in steps of their own, anything PostgreSQL cannot
 * do in place held back with its hazard code.
 */

const callStatus = enumType('call_status', ['queued', 'ringing', 'in_progress', 'done'])
const level = enumType('Level', ['low', "it's high"], { schema: 'audit' })

/** `t` with one column of enum `e` (labels as given) and, optionally, a default. */
const withLabels = (labels: readonly string[], defaultLabel?: string) => {
  const e = enumType('e', labels)
  const s = defaultLabel === undefined ? c.enum(e) : c.enum(e).default(defaultLabel)
  return defineSchema(table('t', { id: c.integer().primaryKey(), s }))
}

export const ENUM_CASES: readonly AcceptanceCase[] = [
  {
    name: 'enums are created before the tables using them: a default, an array of one, one in another schema, an index with a label in its predicate',
    before: '',
    schema: defineSchema(
      table(
        'call_log',
        {
          id: c.bigserial().primaryKey(),
          status: c.enum(callStatus).notNull().default('queued'),
          history: c.array(c.enum(callStatus)).notNull().default(['queued']),
          level: c.enum(level),
        },
        { indexes: [index('status').where("status <> 'done'")] },
      ),
    ),
    steps: ['create-schema schema audit', 'create-enum audit.Level', 'create-enum call_status', 'create-table call_log', 'create-index call_log.call_log_status_idx'],
    sqlContains: [
      'CREATE SCHEMA IF NOT EXISTS "audit"',
      `CREATE TYPE "audit"."Level" AS ENUM ('low', 'it''s high')`,
      `CREATE TYPE "public"."call_status" AS ENUM ('queued', 'ringing', 'in_progress', 'done')`,
      `"status" public.call_status NOT NULL DEFAULT 'queued'`,
    ],
  },
  {
    name: 'new labels go before, between and after the existing ones, each in a step outside a transaction',
    before: `CREATE TYPE e AS ENUM ('b', 'd'); CREATE TABLE t (id integer PRIMARY KEY, s e); INSERT INTO t VALUES (1, 'd')`,
    schema: withLabels(['a', 'b', 'c', 'd', 'e']),
    steps: ['add-enum-value e', 'add-enum-value e', 'add-enum-value e'],
    sqlContains: [
      `ALTER TYPE "public"."e" ADD VALUE IF NOT EXISTS 'a' BEFORE 'b'`,
      `ALTER TYPE "public"."e" ADD VALUE IF NOT EXISTS 'c' AFTER 'b'`,
      `ALTER TYPE "public"."e" ADD VALUE IF NOT EXISTS 'e' AFTER 'd'`,
    ],
  },
  {
    name: 'an index naming a label the plan adds is built after it; an index naming an old label is left as it is',
    before: `CREATE TYPE e AS ENUM ('a', 'done'); CREATE TABLE t (id integer PRIMARY KEY, s e); INSERT INTO t VALUES (1, 'done');
      CREATE INDEX t_open_idx ON t (id) WHERE s <> 'done'`,
    schema: defineSchema(
      table(
        't',
        { id: c.integer().primaryKey(), s: c.enum(enumType('e', ['a', 'ringing', 'done'])) },
        { indexes: [index('id').where("s <> 'done'").name('t_open_idx'), index('id').where("s = 'ringing'").name('t_ringing_idx')] },
      ),
    ),
    steps: ['add-enum-value e', 'create-index t.t_ringing_idx'],
    sqlContains: [`ADD VALUE IF NOT EXISTS 'ringing' AFTER 'a'`, `"t_ringing_idx" ON "public"."t"`],
  },
  {
    name: 'a label added is the new default in the same plan: the default is set after the label committed',
    before: `CREATE TYPE e AS ENUM ('a'); CREATE TABLE t (id integer PRIMARY KEY, s e DEFAULT 'a')`,
    schema: withLabels(['a', 'b'], 'b'),
    allow: ['default-change'],
    steps: ['add-enum-value e', 'alter-column-default t.s'],
    sqlContains: [`ADD VALUE IF NOT EXISTS 'b' AFTER 'a'`, `SET DEFAULT 'b'`],
  },
  {
    name: 'an enum made by hand that a column uses through c.type is left alone; one nothing uses is dropped only with --allow drop-enum',
    before: `CREATE TYPE mood AS ENUM ('sad', 'ok'); CREATE TYPE unused AS ENUM ('x'); CREATE TABLE t (id integer PRIMARY KEY, m mood)`,
    schema: defineSchema(table('t', { id: c.integer().primaryKey(), m: c.type<'sad' | 'ok'>('mood') })),
    allow: ['drop-enum:unused'],
    steps: ['drop-enum unused'],
    sqlContains: ['DROP TYPE IF EXISTS "public"."unused"'],
  },
  {
    name: 'a column whose enum leaves schema/ becomes text with its default kept, then the enum is dropped',
    before: `CREATE TYPE e AS ENUM ('a', 'b'); CREATE TABLE t (id integer PRIMARY KEY, s e NOT NULL DEFAULT 'b'); INSERT INTO t VALUES (1, 'a')`,
    schema: defineSchema(table('t', { id: c.integer().primaryKey(), s: c.text().notNull().default('b') })),
    allow: ['column-type-change', 'drop-enum'],
    steps: ['alter-column-type t.s', 'drop-enum e'],
    sqlContains: [`ALTER COLUMN "s" DROP DEFAULT, ALTER COLUMN "s" TYPE text USING "s"::text, ALTER COLUMN "s" SET DEFAULT 'b'`],
  },
  {
    name: 'a text column becomes an enum column (a rewrite, with --allow column-type-change), its default kept',
    before: `CREATE TABLE t (id integer PRIMARY KEY, s text DEFAULT 'queued'); INSERT INTO t VALUES (1, 'done'), (2, 'queued')`,
    schema: defineSchema(table('t', { id: c.integer().primaryKey(), s: c.enum(callStatus).default('queued') })),
    allow: ['column-type-change'],
    steps: ['create-enum call_status', 'alter-column-type t.s'],
    sqlContains: ['CREATE TYPE', `TYPE public.call_status USING "s"::public.call_status, ALTER COLUMN "s" SET DEFAULT 'queued'`],
  },
  {
    name: 'removing, renaming or reordering labels is held back, and the assertion names the enums',
    before: `CREATE TYPE gone AS ENUM ('a', 'b', 'c'); CREATE TYPE renamed AS ENUM ('a', 'b'); CREATE TYPE moved AS ENUM ('a', 'b');
      CREATE TABLE t (id integer PRIMARY KEY, g gone, r renamed, m moved)`,
    schema: defineSchema(
      table('t', {
        id: c.integer().primaryKey(),
        g: c.enum(enumType('gone', ['a', 'c'])),
        r: c.enum(enumType('renamed', ['a', 'bee'])),
        m: c.enum(enumType('moved', ['b', 'a'])),
      }),
    ),
    steps: [],
    heldBack: ['enum-label-removed gone', 'enum-label-reordered moved', 'enum-label-removed renamed'],
  },
]
