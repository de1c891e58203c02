import type { ColumnSpec, SqlExpression } from '../dsl/column.js'
import type { SchemaDefinition, TableDefinition } from '../dsl/table.js'
import { MigratorError, TypeSpecError } from '../errors.js'
import { constraintsFromDefinition, type DeclaredTables, uniqueKeysOf } from './constraint-model.js'
import { enumsFromDefinition } from './enum-model.js'
import { indexesFromDefinition } from './index-model.js'
import { compileOffline } from './compile-sql.js'
import {
  type ColumnDefault,
  type ColumnModel,
  compareText,
  displayTableName,
  type GeneratedColumn,
  type Partitioning,
  SEQUENCE_DEFAULT,
  type SchemaModel,
  sortTables,
  type TableModel,
  tableKey,
} from './model.js'
import { memoized } from './memoized.js'
import { canonicalExpression, memoizedDefaultModel } from './normalize-default.js'
import { catalogTypeSpelling, type ParsedType, parseType } from './normalize-type.js'
import { renderDefault } from './render-default.js'
import { isSingleExpression, stripOuterParentheses } from './sql-text.js'

/** PostgreSQL truncates longer identifiers silently (NAMEDATALEN - 1); we refuse them instead. */
export const MAX_IDENTIFIER_BYTES = 63

/**
 * Builds the normalized model from the declared schema, checking it on the
 * way: every problem found is reported at once, each naming its file, table
 * and column, before anything touches a database.
 *
 * @throws MigratorError (stage `schema`) listing every problem.
 */
export function modelFromDefinition(definition: SchemaDefinition): SchemaModel {
  const problems: string[] = []
  const memo = columnMemo()
  const tables: TableModel[] = []
  const seen = new Map<string, TableDefinition>()
  // Index names share a namespace with tables: each PostgreSQL schema's relation names, tables first.
  const relationNames = new Map<string, Set<string>>()
  // Foreign key names PostgreSQL derives are numbered on a clash with any constraint in the schema.
  const constraintNames = new Map<string, Set<string>>()
  const byKey = new Map<string, TableDefinition>()
  for (const declared of definition.tables) {
    if (declared?.kind !== 'table-definition') continue
    const names = relationNames.get(declared.schema) ?? new Set<string>()
    names.add(declared.name).add(`${declared.name}_pkey`)
    relationNames.set(declared.schema, names)
    const constraints = constraintNames.get(declared.schema) ?? new Set<string>()
    constraints.add(`${declared.name}_pkey`)
    constraintNames.set(declared.schema, constraints)
    if (!byKey.has(tableKey(declared))) byKey.set(tableKey(declared), declared)
  }
  const uniqueKeys = new Map<TableDefinition, Set<string>>()
  const declaredTables: DeclaredTables = {
    byKey,
    uniqueKeys: (table) => uniqueKeys.get(table) ?? uniqueKeys.set(table, uniqueKeysOf(table)).get(table) ?? new Set(),
  }

  for (const [index, declared] of definition.tables.entries()) {
    // A circular import leaves `undefined` here; say so rather than fail on a property read.
    if (declared?.kind !== 'table-definition') {
      problems.push(`defineSchema argument ${index + 1} is not a table: declare it with table(...)`)
      continue
    }
    // Locations are worked out only for problems: formatting one costs a stack trace.
    const where = () => locate(declared)
    checkIdentifier(declared.schema, () => `schema name of ${where()}`, problems)
    checkIdentifier(declared.name, () => `table name ${where()}`, problems)
    const key = tableKey(declared)
    const earlier = seen.get(key)
    if (earlier) {
      problems.push(`duplicate table ${displayTableName(declared)}: declared at ${locate(declared)} and at ${locate(earlier)}`)
      continue
    }
    seen.set(key, declared)
    const table = tableModel(declared, relationNames.get(declared.schema) ?? new Set(), where, problems, memo)
    const constraints = constraintsFromDefinition(declared, declaredTables, constraintNames.get(declared.schema) ?? new Set(), where, problems)
    tables.push({ ...table, constraints })
  }

  const tableNames = new Set(tables.map(tableKey))
  const enums = enumsFromDefinition(definition, tableNames, (name, what) => checkIdentifier(name, what, problems), problems)

  if (problems.length > 0) {
    throw new MigratorError('schema', `the schema is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'fix the definitions in schema/ and run the command again',
    })
  }
  const sorted = sortTables(tables)
  return { namespaces: namespacesOf(definition), tables: sorted, enums }
}

/**
 * The PostgreSQL schemas a definition's tables and enums live in, sorted:
 * the model's `namespaces`. Cheap and unchecked, so a command can start
 * reading the catalog before the model is built and checked.
 */
export function namespacesOf(definition: SchemaDefinition): string[] {
  const namespaces = new Set<string>()
  for (const declared of definition.tables) {
    if (declared?.kind !== 'table-definition') continue
    namespaces.add(declared.schema)
    for (const column of Object.values(declared.columns)) {
      const used = column?.spec?.enum
      if (used) namespaces.add(used.schema)
    }
  }
  for (const declared of definition.enums ?? []) namespaces.add(declared.schema)
  return [...namespaces].sort(compareText)
}

/**
 * The pure, per-text parts of modelling a column, remembered for one schema:
 * a schema spells few distinct types and defaults over many columns.
 */
interface ColumnMemo {
  /** `parseType`, or the TypeSpecError it threw. */
  readonly parseType: (spec: string) => ParsedType | TypeSpecError
  readonly defaultModel: (sql: string, type: string) => ColumnDefault | null
  /** `renderDefault` of a string, number or boolean value, keyed by `catalog?\0type\0typeof\0value`. */
  readonly renderScalar: (key: string) => ReturnType<typeof renderDefault>
}

function columnMemo(): ColumnMemo {
  return {
    parseType: memoized((spec) => {
      try {
        return parseType(spec)
      } catch (error) {
        if (error instanceof TypeSpecError) return error
        throw error
      }
    }),
    defaultModel: memoizedDefaultModel(),
    renderScalar: memoized((key) => {
      const [catalog, type, kind, text] = key.split('\0') as [string, string, string, string]
      const value = kind === 'number' ? Number(text) : kind === 'boolean' ? text === 'true' : text
      return renderDefault(value, type, catalog === '1')
    }),
  }
}

function tableModel(
  declared: TableDefinition,
  relationNames: Set<string>,
  where: () => string,
  problems: string[],
  memo: ColumnMemo,
): Omit<TableModel, 'constraints'> {
  const columns: ColumnModel[] = []
  const primaryKey: string[] = []
  const names = Object.keys(declared.columns)
  if (names.length === 0) problems.push(`${where()}: a table needs at least one column`)

  for (const name of names) {
    const spec = declared.columns[name]?.spec
    const at = () => `${where()}, column ${name}`
    if (!spec || typeof spec.type !== 'string') {
      problems.push(`${at()}: not a column; declare it with c.<type>()`)
      continue
    }
    checkIdentifier(name, () => `column name at ${at()}`, problems)
    const column = columnModel(name, spec, (problem) => problems.push(`${at()}: ${problem}`), memo)
    if (column) columns.push(column)
    if (spec.primaryKey) primaryKey.push(name)
  }

  if (declared.primaryKey) {
    if (primaryKey.length > 0) problems.push(`${where()}: declare the primary key either on columns or in the table options, not both`)
    for (const name of declared.primaryKey) {
      if (!names.includes(name)) problems.push(`${where()}: primary key column ${name} is not declared`)
    }
    primaryKey.push(...declared.primaryKey)
  } else if (primaryKey.length > 1) {
    problems.push(`${where()}: several columns are marked primaryKey(); use the table option primaryKey: [...] for a composite key`)
  }

  // A primary key implies NOT NULL in PostgreSQL; model it so the diff agrees with the catalog.
  const keyed = columns.map((column) => (primaryKey.includes(column.name) ? { ...column, nullable: false } : column))
  const indexes = indexesFromDefinition(declared, names, relationNames, where, problems)
  return { schema: declared.schema, name: declared.name, columns: keyed, primaryKey, indexes, partitionBy: partitioning(declared, where, problems) }
}

/** One declared column, checked; `null` when its type is unusable (the problem is reported). */
function columnModel(name: string, spec: ColumnSpec, report: (problem: string) => void, memo: ColumnMemo): ColumnModel | null {
  let type: string
  let serial = false
  let catalogType = false
  const parsed = memo.parseType(spec.type)
  if (!(parsed instanceof TypeSpecError)) {
    ;({ type, serial } = parsed)
  } else {
    // Not a built-in spelling: a type the target must define (an enum, a domain, an extension's type).
    const spelling = catalogTypeSpelling(spec.type)
    if (spelling === null) {
      report(`"${spec.type}" is not a type name; write a type as PostgreSQL spells it (mood, audit.mood, geometry(Point,4326), mood[])`)
      return null
    }
    type = spelling
    catalogType = true
  }

  if (serial && (spec.default !== null || spec.identity !== null || spec.generated !== null)) {
    report('a serial column gets its default from its sequence; remove the default, identity or generation expression')
  }
  if (spec.identity !== null && spec.default !== null) report('an identity column cannot also have a default')
  if (spec.generated !== null && spec.default !== null) report('a generated column cannot also have a default')
  if (spec.generated !== null && spec.identity !== null) report('a generated column cannot also be an identity column')

  return {
    name,
    type,
    nullable: spec.nullable,
    default: serial ? SERIAL_DEFAULT : declaredDefault(spec, type, catalogType, report, memo),
    identity: spec.identity,
    generated: spec.generated === null ? null : generatedColumn(spec.generated.expression, report),
    catalogType,
  }
}

const SERIAL_DEFAULT: ColumnDefault = { sql: SEQUENCE_DEFAULT, canonical: SEQUENCE_DEFAULT }

function declaredDefault(spec: ColumnSpec, type: string, catalogType: boolean, report: (problem: string) => void, memo: ColumnMemo): ColumnDefault | null {
  if (spec.default === null) return null
  let sql: string
  if (spec.default.kind === 'sql') {
    sql = spec.default.sql.trim()
    const problem = expressionProblem(sql)
    if (problem) {
      report(`.defaultSql(${JSON.stringify(sql)}) ${problem}`)
      return null
    }
  } else {
    const { value } = spec.default
    // Keyed by text: strings with NUL (the key's separator) and -0 (printed as 0) are rendered each time.
    const scalar =
      (typeof value === 'string' && !value.includes('\0')) || (typeof value === 'number' && !Object.is(value, -0)) || typeof value === 'boolean'
    const rendered = scalar
      ? memo.renderScalar(`${catalogType ? 1 : 0}\0${type}\0${typeof value}\0${String(value)}`)
      : renderDefault(value, type, catalogType)
    if ('problem' in rendered) {
      report(rendered.problem)
      return null
    }
    sql = rendered.sql
  }
  return memo.defaultModel(sql, type)
}

function generatedColumn(expression: SqlExpression, report: (problem: string) => void): GeneratedColumn | null {
  let sql: string
  if (typeof expression === 'string') {
    sql = expression.trim()
  } else {
    const compiled = compileOffline(expression)
    if (compiled.parameters.length > 0) {
      report('the generation expression binds a value (${...} in sql``); write constants into the SQL and names with sql.ref(...)')
      return null
    }
    sql = compiled.sql.trim()
  }
  if (sql === '') {
    report('the generation expression is empty')
    return null
  }
  const problem = expressionProblem(sql)
  if (problem) {
    report(`the generation expression ${JSON.stringify(sql)} ${problem}`)
    return null
  }
  return { kind: 'stored', sql, canonical: canonicalExpression(sql) }
}

/** Why `sql`, written into DDL as it is, cannot stand where an expression goes; `null` when it can. */
function expressionProblem(sql: string): string | null {
  if (sql.includes('\0')) return 'contains a NUL character'
  if (!isSingleExpression(sql)) return "is not one SQL expression (an unclosed quote or parenthesis, or a ',', ';' or comment outside them)"
  return null
}

function partitioning(declared: TableDefinition, where: () => string, problems: string[]): Partitioning | null {
  const { partitionBy } = declared
  if (partitionBy === null || partitionBy === undefined) return null
  const parts = typeof partitionBy === 'string' ? /^(range|list|hash)\s*(\(.+\))$/is.exec(partitionBy.trim()) : null
  if (!parts || stripOuterParentheses(parts[2] as string) === parts[2] || expressionProblem(parts[2] as string)) {
    problems.push(`${where()}: partitionBy ${JSON.stringify(partitionBy)} is not RANGE (...), LIST (...) or HASH (...)`)
    return null
  }
  return { sql: partitionBy.trim(), canonical: canonicalExpression(partitionBy) }
}

function checkIdentifier(name: unknown, what: () => string, problems: string[]): void {
  if (typeof name !== 'string' || name.length === 0) {
    problems.push(`${what()}: must be a non-empty string`)
    return
  }
  if (name.includes('\0')) problems.push(`${what()}: contains a NUL character`)
  const bytes = Buffer.byteLength(name, 'utf8')
  if (bytes > MAX_IDENTIFIER_BYTES) {
    problems.push(
      `${what()}: "${name}" is ${bytes} bytes; PostgreSQL keeps only ${MAX_IDENTIFIER_BYTES} and would silently truncate it`,
    )
  }
}

function locate(declared: TableDefinition): string {
  const name = `table ${displayTableName(declared)}`
  return declared.definedAt ? `${name} (${declared.definedAt})` : name
}
