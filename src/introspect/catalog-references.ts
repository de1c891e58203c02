import { type Kysely, sql } from 'kysely'
import { MigratorError } from '../errors.js'
import { elementTypeOf, enumSpelling } from '../model/enum-model.js'
import { type ColumnModel, displayTableName, type SchemaModel, type SequenceRef } from '../model/model.js'
import { defaultModel, sequenceDefaultText } from '../model/normalize-default.js'
import { quoteIdentifierIfNeeded, splitCast } from '../model/sql-text.js'
import { sqlStateOf } from '../target/database-errors.js'
import { deparseOnServer } from './server-deparse.js'

/**
 * What the declared schema names but does not define, looked up in the
 * target's catalog at plan and verify time: types outside the built-in set
 * (`c.type('mood')`, `c.type('citext')`) and the sequences `nextval`
 * defaults draw from. Each is resolved to the spelling PostgreSQL prints
 * (`format_type`, the sequence's schema), so the diff compares like with
 * like; anything missing is named with the column that needs it.
 *
 * No round trip when the schema names neither.
 */
export async function resolveCatalogReferences(db: Kysely<unknown>, declared: SchemaModel): Promise<SchemaModel> {
  const columns = declared.tables.flatMap((table) => table.columns.map((column) => ({ table, column })))
  const spellings = [...new Set(columns.filter(({ column }) => column.catalogType).map(({ column }) => column.type))]
  const sequences = uniqueSequences(columns.flatMap(({ column }) => (column.default?.sequence ? [column.default.sequence] : [])))
  if (spellings.length === 0 && sequences.length === 0) return declared

  const types = await resolveTypes(db, spellings)
  const found = await resolveSequences(db, sequences)
  const problems: string[] = []
  const fixes = new Set<string>()
  const missingExtensions = new Set<string>()
  // An enum schema/ declares is created by the plan: until then its columns keep its qualified spelling.
  const declaredEnums = new Set(declared.enums.map(enumSpelling))
  for (const { table, column } of columns) {
    const at = `${displayTableName(table)}.${column.name}`
    const type = column.catalogType ? types.get(column.type) : undefined
    if (type && 'missing' in type && declaredEnums.has(elementTypeOf(column.type))) continue
    if (type && 'missing' in type) {
      problems.push(`${at}: type ${JSON.stringify(type.missing)} does not exist in the target database`)
      const extension = EXTENSION_TYPES[baseName(type.missing)]
      if (extension) missingExtensions.add(extension)
      else fixes.add('create the type first (CREATE TYPE ... AS ENUM, CREATE DOMAIN ...), or fix its spelling in schema/')
    } else if (type && 'refused' in type) {
      problems.push(`${at}: type ${JSON.stringify(column.type)} is refused by the target: ${type.refused}`)
      fixes.add('write the type as PostgreSQL spells it, e.g. geometry(Point,4326)')
    }
    const sequence = column.default?.sequence
    if (sequence && found.get(sequenceText(sequence)) === null) {
      problems.push(`${at}: sequence ${sequenceText(sequence)} does not exist in the target database`)
      fixes.add(`create the sequence first (CREATE SEQUENCE ${sequenceText(sequence)}), or fix its name in schema/`)
    }
  }
  if (problems.length > 0) {
    const extensions = [...missingExtensions].map((name) => `CREATE EXTENSION ${name}`)
    throw new MigratorError('introspect', `the target lacks what schema/ uses:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: `${[...extensions, ...fixes].join('; ')}; then run the command again`,
    })
  }

  return {
    ...declared,
    tables: declared.tables.map((table) => ({
      ...table,
      columns: table.columns.map((column) => resolvedColumn(column, types, found)),
    })),
  }
}

type TypeLookup = { readonly resolved: string } | { readonly missing: string } | { readonly refused: string }

function resolvedColumn(column: ColumnModel, types: ReadonlyMap<string, TypeLookup>, sequences: ReadonlyMap<string, SequenceRef | null>): ColumnModel {
  const lookup = column.catalogType ? types.get(column.type) : undefined
  const type = lookup && 'resolved' in lookup ? lookup.resolved : column.type
  let columnDefault = column.default && type !== column.type ? defaultModel(column.default.sql, type) : column.default
  const sequence = column.default?.sequence && sequences.get(sequenceText(column.default.sequence))
  if (columnDefault && sequence) {
    columnDefault = { ...columnDefault, canonical: sequenceDefaultText({ schema: sequence.schema ?? 'public', name: sequence.name }), sequence }
  }
  return { ...column, type, default: columnDefault }
}

/** `format_type`'s spelling of each type, through `EXPLAIN SELECT NULL::<type>` (which keeps modifiers, unlike `to_regtype`). */
async function resolveTypes(db: Kysely<unknown>, spellings: readonly string[]): Promise<Map<string, TypeLookup>> {
  if (spellings.length === 0) return new Map()
  const printed = await deparseOnServer(
    db,
    spellings.map((spelling) => ({ expression: 'NULL', castTo: spelling, table: null })),
  )
  return new Map(
    spellings.map((spelling, i): [string, TypeLookup] => {
      const result = printed[i]
      // `NULL::mood`; a domain prints its base type's NULL first: `(NULL::text)::us_zip`.
      const cast = result && 'text' in result ? splitCast(result.text) : null
      if (cast) return [spelling, { resolved: cast[1] }]
      const error = result && 'error' in result ? result.error : new Error(`EXPLAIN printed ${JSON.stringify(result)}`)
      // 42704: no such type; 3F000: no such schema (`audit.level` before `audit` exists).
      if (sqlStateOf(error) === '42704' || sqlStateOf(error) === '3F000') return [spelling, { missing: missingTypeName(error, spelling) }]
      return [spelling, { refused: error instanceof Error ? error.message : String(error) }]
    }),
  )
}

/** Each sequence as found (schema and name), or `null` when there is no such sequence. */
async function resolveSequences(db: Kysely<unknown>, sequences: readonly SequenceRef[]): Promise<Map<string, SequenceRef | null>> {
  if (sequences.length === 0) return new Map()
  const names = sequences.map(sequenceText)
  const { rows } = await sql<{ input: string; schema: string | null; name: string | null }>`
    SELECT input, n.nspname AS schema, c.relname AS name
      FROM unnest(${names}::text[]) AS input
      LEFT JOIN pg_catalog.pg_class c ON c.oid = to_regclass(input) AND c.relkind = 'S'
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`.execute(db)
  return new Map(rows.map((row) => [row.input, row.schema !== null && row.name !== null ? { schema: row.schema, name: row.name } : null]))
}

/** The sequence as `to_regclass` reads it, and as messages name it. */
function sequenceText(sequence: SequenceRef): string {
  const name = quoteIdentifierIfNeeded(sequence.name)
  return sequence.schema === null ? name : `${quoteIdentifierIfNeeded(sequence.schema)}.${name}`
}

function uniqueSequences(sequences: readonly SequenceRef[]): SequenceRef[] {
  return [...new Map(sequences.map((s) => [sequenceText(s), s])).values()]
}

/** PostgreSQL names the missing type in its message (`type "citext" does not exist`); fall back to the spelling. */
function missingTypeName(error: unknown, spelling: string): string {
  const named = /type "((?:[^"]|"")+)" does not exist/.exec(error instanceof Error ? error.message : '')
  return named?.[1] ?? spelling
}

function baseName(type: string): string {
  return type.replace(/\(.*$/, '').replace(/\[\]$/, '').split('.').pop()?.replaceAll('"', '').toLowerCase() ?? type
}

/** Types that come with a well-known extension: the fix for a missing one is `CREATE EXTENSION`. */
const EXTENSION_TYPES: Readonly<Record<string, string>> = {
  citext: 'citext',
  hstore: 'hstore',
  ltree: 'ltree',
  lquery: 'ltree',
  ltxtquery: 'ltree',
  cube: 'cube',
  seg: 'seg',
  isbn: 'isn',
  isbn13: 'isn',
  issn: 'isn',
  ean13: 'isn',
  upc: 'isn',
  geometry: 'postgis',
  geography: 'postgis',
  box2d: 'postgis',
  box3d: 'postgis',
  raster: 'postgis_raster',
  vector: 'vector',
  halfvec: 'vector',
  sparsevec: 'vector',
}
