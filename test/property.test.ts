import { mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import { sql } from 'kysely'
import { describe } from 'vitest'
import {
  asc,
  check,
  type CheckSpec,
  type ColumnBuilder,
  c,
  defineSchema,
  enumType,
  expression,
  index,
  type IndexBuilder,
  type IndexKey,
  type JsonValue,
  type SchemaDefinition,
  table,
  unique,
  type UniqueBuilder,
} from '../src/dsl/index.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { withTestDatabase } from './support/database.js'
import { planFor, writeAndApply } from './support/pipeline.js'
import { useScratchDir } from './support/scratch.js'
import { casesOn } from './support/cases.js'
import { enabledTargets } from './support/targets.js'

/**
 * Property: any valid schema, planned against an empty database, written,
 * applied with the production executor and planned again, gives an empty
 * plan; so does growing it by new columns. Schemas come from a seeded
 * generator (the seed is in the test name, so a failure replays exactly):
 * random names with quotes, spaces, case and non-ASCII; every supported type;
 * nullability, keys, identity; literal and expression defaults as a user
 * writes them, including jsonb that PostgreSQL re-renders, numbers spelt as
 * strings (`'0.0'` on numeric), arrays, defaults from shared sequences with
 * odd names, and generated columns over odd column names; indexes of every
 * kind the DSL declares (multi-column with orders and nulls, expressions,
 * partial, INCLUDE, unique, GIN, BRIN, hash) and unique constraints, on new
 * tables and added to existing ones; foreign keys, checks and NOT NULL on
 * existing columns (`randomConstraints`); enums with odd names and labels, used by
 * columns (arrays too, with label defaults), grown by labels inserted anywhere
 * and used as defaults in the same plan (`withRandomEnums`).
 */

const SEEDS = Array.from({ length: Number(process.env.SCHEMA_PROPERTY_RUNS ?? 12) }, (_, i) => 1000 + i)

type AnyColumn = ColumnBuilder<never>

/** mulberry32: small, seedable, good enough to pick test cases. */
function random(seed: number) {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1))
  const pick = <T,>(items: readonly T[]): T => items[int(0, items.length - 1)] as T
  const chance = (p: number) => next() < p
  return { int, pick, chance }
}

type Random = ReturnType<typeof random>

const NAME_PARTS = ['id', 'call', 'Status', 'from number', 'naïve', 'x"y', "o'k", 'créé_à', 'UPPER', 'a-b', 'n1', 'Δ']

function name(r: Random, taken: Set<string>): string {
  for (;;) {
    const candidate = Array.from({ length: r.int(1, 3) }, () => r.pick(NAME_PARTS)).join(r.pick(['_', ' ', '']))
    if (!taken.has(candidate) && Buffer.byteLength(candidate) <= 63) {
      taken.add(candidate)
      return candidate
    }
  }
}

const TEXTS = ['', 'queued', "it's", 'back\\slash', 'naïve ✓', 'two  spaces', 'semi; colon', 'line\nbreak']

/** What an index can do with a column: order it (btree), search inside it (gin), summarise it (brin), fold its case. */
type ColumnKind = 'ordered' | 'text' | 'time' | 'contains' | 'json'

/** Sequences a schema's defaults may name; each run creates them first (the DSL does not declare sequences). */
const SEQUENCES = ['plain_seq', "o'k seq", 'Mixed "Seq"']
const SEQUENCES_SQL = SEQUENCES.map((s) => `CREATE SEQUENCE "${s.replaceAll('"', '""')}";`).join('\n')
const nextval = (sequence: string) => `nextval('${`"${sequence.replaceAll('"', '""')}"`.replaceAll("'", "''")}'::regclass)`

/** A column of a random type, with a default of the kind users write for it (or none). */
function column(r: Random): { builder: AnyColumn; kind: ColumnKind } {
  const withDefault = r.chance(0.5)
  const kinds: ColumnKind[] = [
    'ordered', 'ordered', 'ordered', 'ordered', 'ordered', 'ordered', 'text', 'text', 'ordered', 'ordered',
    'time', 'ordered', 'ordered', 'time', 'time', 'ordered', 'ordered', 'json', 'contains', 'ordered', 'ordered', 'contains', 'contains',
    'ordered', 'ordered', 'ordered', 'ordered', 'contains', 'contains', 'contains', 'ordered',
  ]
  const choices: (() => AnyColumn)[] = [
    () => (withDefault ? c.smallint().default(r.int(-300, 300)) : c.smallint()) as AnyColumn,
    () => (withDefault ? c.integer().default(r.int(-1e6, 1e6)) : c.integer()) as AnyColumn,
    () => (withDefault ? c.bigint().default(r.pick([0, -5, 9_999_999_999])) : c.bigint()) as AnyColumn,
    () => (withDefault ? c.numeric(12, 2).default(r.pick([0, 1.5, -2.25])) : c.numeric(r.int(1, 20), r.int(0, 1))) as AnyColumn,
    () => (withDefault ? c.real().default(r.pick([0.5, -1.25])) : c.real()) as AnyColumn,
    () => (withDefault ? c.doublePrecision().default(r.pick([-0.5, 1e20, 3])) : c.doublePrecision()) as AnyColumn,
    () => (withDefault ? c.text().default(r.pick(TEXTS)) : c.text()) as AnyColumn,
    () => (withDefault ? c.varchar(40).default(r.pick(TEXTS)) : c.varchar(r.int(1, 500))) as AnyColumn,
    () => (withDefault ? c.char(3).default(r.pick(['ab', 'abc', 'x'])) : c.char(r.int(1, 10))) as AnyColumn,
    () => (withDefault ? c.boolean().default(r.chance(0.5)) : c.boolean()) as AnyColumn,
    () => (withDefault ? c.date().defaultSql(r.pick(['CURRENT_DATE', 'current_date'])) : c.date()) as AnyColumn,
    () => c.time(r.pick([undefined, 0, 3, 6])) as AnyColumn,
    () => c.timetz() as AnyColumn,
    () => c.timestamp(r.pick([undefined, 3])) as AnyColumn,
    () => (withDefault ? c.timestamptz().defaultSql(r.pick(['now()', 'NOW()', 'current_timestamp', 'CURRENT_TIMESTAMP'])) : c.timestamptz(r.pick([undefined, 0, 6]))) as AnyColumn,
    () => c.interval() as AnyColumn,
    () => (withDefault ? c.uuid().defaultSql('gen_random_uuid()') : c.uuid()) as AnyColumn,
    () => c.json() as AnyColumn,
    () => (withDefault ? c.jsonb().default(r.pick<JsonValue>([{}, { b: 1, a: [1, 2] }, { "it's": null, zz: { y: true } }, [3, 'x']])) : c.jsonb()) as AnyColumn,
    () => c.bytea() as AnyColumn,
    () => c.inet() as AnyColumn,
    () => (withDefault ? c.array(c.integer()).defaultSql("'{1,2}'") : c.array(c.text())) as AnyColumn,
    () => c.array(c.varchar(20)) as AnyColumn,
    // Numbers spelt as strings, as numeric's TypeScript type (string) has users write them.
    () => (withDefault ? c.numeric(12, 2).default(r.pick(['0.0', '1.50', '-2.255', '0', '1e3'])) : c.numeric()) as AnyColumn,
    () => (withDefault ? c.numeric().default(r.pick(['0.0', '10', '-0.001', '.5'])) : c.numeric()) as AnyColumn,
    () => (withDefault ? c.bigint().default(r.pick(['0', '-9999999999', 42n])) : c.bigint()) as AnyColumn,
    () => (withDefault ? c.doublePrecision().default(r.pick([0, 0.25, -3, 1.5e-7])) : c.real()) as AnyColumn,
    // Arrays, with elements that need quoting in an array literal.
    () => (withDefault ? c.array(c.text()).default(r.pick([[], ['a b', "it's"], ['x,y', '"q"', 'NULL', 'back\\slash', '{}']])) : c.array(c.text())) as AnyColumn,
    () => (withDefault ? c.array(c.integer()).default(r.pick([[], [1, -2], [0]])) : c.array(c.integer())) as AnyColumn,
    () => (withDefault ? c.array(c.numeric(6, 2)).default(r.pick([['1.5', 0], ['0.0']])) : c.array(c.numeric(6, 2))) as AnyColumn,
    // A shared sequence, named as users write it.
    () => (withDefault ? c.bigint().defaultSql(nextval(r.pick(SEQUENCES))) : c.bigint()) as AnyColumn,
  ]
  const choice = r.int(0, choices.length - 1)
  const built = (choices[choice] as () => AnyColumn)()
  return { builder: (r.chance(0.3) ? built.notNull() : built) as AnyColumn, kind: kinds[choice] as ColumnKind }
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`

/** Random indexes and unique constraints over `columns`, as a user declares them. */
function randomIndexes(
  r: Random,
  columns: ReadonlyMap<string, ColumnKind>,
): { indexes: IndexBuilder<string>[]; unique: UniqueBuilder<string>[] } {
  const ordered = [...columns].filter(([, kind]) => kind !== 'json' && kind !== 'contains').map(([name]) => name)
  const ofKind = (...kinds: ColumnKind[]) => [...columns].filter(([, kind]) => kinds.includes(kind)).map(([name]) => name)
  const indexes: IndexBuilder<string>[] = []
  const uniques: UniqueBuilder<string>[] = []
  for (let i = r.int(0, 3); i > 0; i--) {
    const shape = r.int(0, 5)
    if (shape <= 2 && ordered.length > 0) {
      const keys: (string | IndexKey<string>)[] = Array.from({ length: r.int(1, Math.min(3, ordered.length)) }, () => {
        const key = asc(r.pick(ordered))
        const sorted = r.chance(0.4) ? key.desc() : key
        return r.pick([sorted, sorted.nullsFirst(), sorted.nullsLast(), sorted.spec.column as string])
      })
      const texts = ofKind('text')
      if (texts.length > 0 && r.chance(0.4)) keys.push(expression(r.pick([`lower(${quoted(r.pick(texts))})`, `upper(${quoted(r.pick(texts))}) || 'x'`])))
      let built = index(...keys)
      if (r.chance(0.3)) built = built.where(`${quoted(r.pick(ordered))} IS NOT NULL`)
      if (r.chance(0.3)) built = built.unique()
      if (r.chance(0.2)) built = built.include(r.pick([...columns.keys()]))
      indexes.push(built)
    } else if (shape === 3 && ofKind('contains').length > 0) {
      indexes.push(index(r.pick(ofKind('contains'))).using('gin'))
    } else if (shape === 4 && ofKind('time').length > 0) {
      indexes.push(index(r.pick(ofKind('time'))).using(r.pick(['brin', 'hash'] as const)))
    } else if (ordered.length > 0) {
      uniques.push(unique(...new Set(Array.from({ length: r.int(1, 2) }, () => r.pick(ordered)))))
    }
  }
  return { indexes, unique: uniques }
}

/** A stored generated column computed from `source`, spelt as a user would (PostgreSQL re-renders it). */
function generated(r: Random, source: string): AnyColumn {
  const ref = sql.ref(source)
  return r.pick([
    () => c.integer().generatedAlwaysAs(sql`length(${ref}::text) + 1`),
    () => c.text().notNull().generatedAlwaysAs(sql`'#' || ${ref}::text`),
    () => c.text().generatedAlwaysAs(sql`UPPER(${ref}::TEXT)`),
  ])() as AnyColumn
}

function randomSchema(r: Random): { schema: SchemaDefinition; grown: SchemaDefinition } {
  const tableNames = new Set<string>()
  const tables = Array.from({ length: r.int(1, 3) }, () => {
    const columnNames = new Set<string>()
    const columns: Record<string, AnyColumn> = {}
    const kinds = new Map<string, ColumnKind>()
    const key = name(r, columnNames)
    const keyKind = r.int(0, KEY_KINDS.length - 1)
    columns[key] = (KEY_KINDS[keyKind] as (typeof KEY_KINDS)[number]).key()
    const addColumns = (into: Record<string, AnyColumn>, count: number) => {
      for (let i = count; i > 0; i--) {
        const made = column(r)
        const columnName = name(r, columnNames)
        into[columnName] = made.builder
        kinds.set(columnName, made.kind)
      }
    }
    addColumns(columns, r.int(1, 7))
    const plainColumns = [...kinds.keys()]
    // A generated column over the (oddly named) key: quoted through sql.ref, compared by expression.
    if (r.chance(0.5)) columns[name(r, columnNames)] = generated(r, key)
    const first = randomIndexes(r, kinds)
    // New columns, as a later schema adds them, and indexes then built on the existing table.
    const added: Record<string, AnyColumn> = {}
    addColumns(added, r.int(1, 3))
    if (r.chance(0.3)) added[name(r, columnNames)] = generated(r, key)
    const more = randomIndexes(r, kinds)
    const schema = r.chance(0.3) ? { schema: 'audit ☂' } : {}
    const tableName = name(r, tableNames)
    const grown = { indexes: [...first.indexes, ...more.indexes], unique: [...first.unique, ...more.unique] }
    return { tableName, columns, added, schema, first, grown, key, keyKind, columnNames, plainColumns }
  })
  // Drawn after everything above, so each seed's tables, columns and indexes stay what they were.
  const constraints = randomConstraints(r, tables)
  return {
    schema: defineSchema(
      ...tables.map((t, i) => table(t.tableName, { ...t.columns, ...constraints[i]?.first.columns }, { ...t.schema, ...t.first, checks: constraints[i]?.first.checks })),
    ),
    grown: defineSchema(
      ...tables.map((t, i) =>
        table(t.tableName, { ...t.columns, ...t.added, ...constraints[i]?.grown.columns }, { ...t.schema, ...t.grown, checks: constraints[i]?.grown.checks }),
      ),
    ),
  }
}

/** Primary keys the generator declares, and a column of the same type that can reference one. */
const KEY_KINDS = [
  { key: () => c.bigserial().primaryKey() as AnyColumn, referencing: () => c.bigint() as AnyColumn },
  { key: () => c.integer().generatedAlwaysAsIdentity().primaryKey() as AnyColumn, referencing: () => c.integer() as AnyColumn },
  { key: () => c.uuid().primaryKey().defaultSql('gen_random_uuid()') as AnyColumn, referencing: () => c.uuid() as AnyColumn },
  { key: () => c.text().primaryKey() as AnyColumn, referencing: () => c.text() as AnyColumn },
] as const

interface GeneratedTable {
  readonly tableName: string
  readonly schema: { readonly schema?: string }
  readonly key: string
  readonly keyKind: number
  readonly columnNames: Set<string>
  /** Plain columns of the first schema (no key, no generated column): candidates for NOT NULL later. */
  readonly plainColumns: readonly string[]
  readonly columns: Record<string, AnyColumn>
}

interface ConstraintsOf {
  readonly columns: Record<string, AnyColumn>
  readonly checks: CheckSpec[]
}

/**
 * Foreign keys (to any table's primary key, its own included, with every
 * action, names derived from odd column names) and checks (spelt as users
 * write them, which PostgreSQL re-renders), on the new tables of the first
 * schema (added valid with them) and on the existing ones of the grown schema
 * (added NOT VALID, then validated), where some nullable columns also become
 * NOT NULL (through a validated check).
 */
function randomConstraints(r: Random, tables: readonly GeneratedTable[]): { first: ConstraintsOf; grown: ConstraintsOf }[] {
  const draw = (t: GeneratedTable, checkNames: Set<string>): ConstraintsOf => {
    const columns: Record<string, AnyColumn> = {}
    for (let i = r.int(0, 2); i > 0; i--) {
      const target = r.pick(tables)
      const referencing = (KEY_KINDS[target.keyKind] as (typeof KEY_KINDS)[number]).referencing()
      const qualified = `${target.schema.schema ?? 'public'}.${target.tableName}`
      const action = r.pick(['no action', 'restrict', 'cascade', 'set null', 'set default'] as const)
      columns[name(r, t.columnNames)] = referencing.references(qualified, target.key, { onDelete: action, onUpdate: r.pick(['no action', 'cascade'] as const) }) as AnyColumn
    }
    const checks = Array.from({ length: r.int(0, 2) }, () => {
      const column = quoted(r.pick([t.key, ...t.plainColumns]))
      const expression = r.pick([`length(${column}::text) < 1000`, `LENGTH(${column}::TEXT)>=0`, `${column}::text <> 'never' OR ${column} IS NULL`, `NOT (${column} IS NULL AND ${column} IS NOT NULL)`])
      return check(name(r, checkNames), expression)
    })
    return { columns, checks }
  }
  return tables.map((t) => {
    const checkNames = new Set<string>()
    const first = draw(t, checkNames)
    const grown = draw(t, checkNames)
    for (const column of t.plainColumns) {
      const builder = t.columns[column]
      if (builder?.spec.nullable && r.chance(0.3)) grown.columns[column] = builder.notNull() as AnyColumn
    }
    return { first, grown: { columns: { ...first.columns, ...grown.columns }, checks: [...first.checks, ...grown.checks] } }
  })
}

/** Enum labels as they come: quotes, backslashes, commas and braces (array literal syntax), `NULL`, empty. */
const LABELS = ['queued', "it's", 'back\\slash', 'naïve ✓', 'two  spaces', 'UPPER', 'a,b', '{braces}', '"q"', 'NULL', '']
const NEW_LABELS = ['added', "added'q", 'Added ✓', 'late,one']

/**
 * Adds a table of enum columns to both schemas (a separate generator, so the
 * base schemas stay as their seed makes them): one or two enums, in `public`
 * or another schema, used as scalars and arrays with label defaults; the grown
 * schema inserts new labels anywhere in their order and adds columns whose
 * defaults use them.
 */
function withRandomEnums(r: Random, base: { schema: SchemaDefinition; grown: SchemaDefinition }): { schema: SchemaDefinition; grown: SchemaDefinition } {
  const names = new Set<string>()
  const namespace = r.chance(0.4) ? { schema: 'audit ☂' } : {}
  const enums = Array.from({ length: r.int(1, 2) }, () => {
    const labels = [...new Set(Array.from({ length: r.int(1, 5) }, () => r.pick(LABELS)))]
    const grownLabels = [...labels]
    for (const label of new Set(Array.from({ length: r.int(1, 2) }, () => r.pick(NEW_LABELS)))) {
      grownLabels.splice(r.int(0, grownLabels.length), 0, label)
    }
    // `✓` is in no table name, so an enum never takes a table's name (its row type).
    const name = `${Array.from({ length: r.int(1, 2) }, () => r.pick(NAME_PARTS)).join(' ')} ✓${names.size}`
    names.add(name)
    const added = grownLabels.filter((label) => !labels.includes(label))
    return {
      first: enumType(name, labels, namespace),
      grown: enumType(name, grownLabels, namespace),
      scalarDefault: r.chance(0.5) ? r.pick(labels) : null,
      arrayDefault: labels.slice(0, r.int(0, labels.length)),
      newDefault: r.pick(added),
    }
  })
  // The same columns in both versions; the grown one adds columns whose defaults are new labels.
  const columns = (version: 'first' | 'grown') => {
    const built: Record<string, AnyColumn> = { id: c.integer().primaryKey() as AnyColumn }
    enums.forEach((e, i) => {
      const type = e[version]
      built[`scalar ${i}`] = (e.scalarDefault === null ? c.enum(type) : c.enum(type).notNull().default(e.scalarDefault)) as AnyColumn
      built[`array ${i}`] = c.array(c.enum(type)).default(e.arrayDefault) as AnyColumn
      if (version === 'grown') built[`uses new ${i}`] = c.enum(type).notNull().default(e.newDefault) as AnyColumn
    })
    return built
  }
  const enumTable = (version: 'first' | 'grown') => table('enum columns', columns(version), namespace)
  return {
    schema: defineSchema(...base.schema.tables, enumTable('first')),
    grown: defineSchema(...base.grown.tables, enumTable('grown')),
  }
}

const scratch = useScratchDir('property')

describe.each(enabledTargets())('random schemas on %s', (target) => {
  casesOn(target).for(SEEDS)('seed %i: apply, then re-plan is empty; grow (columns, indexes), apply, re-plan is empty', async (seed, { expect }) => {
    const { schema, grown } = withRandomEnums(random(seed + 500), randomSchema(random(seed)))
    const dir = await mkdtemp(path.join(scratch(), `${target}-${seed}-`))
    await withTestDatabase(target, async ({ db, exec }) => {
      await exec(SEQUENCES_SQL)
      for (const definition of [schema, grown]) {
        const declared = modelFromDefinition(definition)
        // A grown schema only adds columns to empty tables: NOT NULL without a default is safe here
        // (allowed, as a team would for a table it knows is empty), and nothing else is held back.
        const plan = await planFor(db, declared, ['not-null-without-default'])
        expect(plan.heldBack).toEqual([])
        await writeAndApply(db, declared, plan, dir)
        const again = await planFor(db, declared)
        expect(again.steps.map((s) => `${s.change.kind} ${s.subject}: ${s.sql}`)).toEqual([])
        expect(again.heldBack).toEqual([])
      }
    })
  })
})
