import type { SchemaDefinition, TableDefinition } from '../dsl/table.js'
import { MigratorError, TypeSpecError } from '../errors.js'
import { indexesFromDefinition } from './index-model.js'
import { type ColumnModel, type SchemaModel, type TableModel, compareText, displayTableName, sortTables, tableKey } from './model.js'
import { normalizeDefault, SEQUENCE_DEFAULT } from './normalize-default.js'
import { parseType } from './normalize-type.js'

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
  const tables: TableModel[] = []
  const seen = new Map<string, TableDefinition>()
  // Index names share a namespace with tables: each PostgreSQL schema's relation names, tables first.
  const relationNames = new Map<string, Set<string>>()
  for (const declared of definition.tables) {
    if (declared?.kind !== 'table-definition') continue
    const names = relationNames.get(declared.schema) ?? new Set<string>()
    names.add(declared.name).add(`${declared.name}_pkey`)
    relationNames.set(declared.schema, names)
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
    tables.push(tableModel(declared, relationNames.get(declared.schema) ?? new Set(), where, problems))
  }

  if (problems.length > 0) {
    throw new MigratorError('schema', `the schema is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'fix the definitions in schema/ and run the command again',
    })
  }
  const sorted = sortTables(tables)
  return { namespaces: [...new Set(sorted.map((t) => t.schema))].sort(compareText), tables: sorted }
}

function tableModel(declared: TableDefinition, relationNames: Set<string>, where: () => string, problems: string[]): TableModel {
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
    let parsed
    try {
      parsed = parseType(spec.type)
    } catch (error) {
      if (!(error instanceof TypeSpecError)) throw error
      problems.push(`${at()}: ${error.message}`)
      continue
    }
    if (parsed.serial && (spec.defaultSql !== null || spec.identity !== null)) {
      problems.push(`${at()}: a serial column gets its default from its sequence; remove the default or identity`)
    }
    if (spec.identity !== null && spec.defaultSql !== null) {
      problems.push(`${at()}: an identity column cannot also have a default`)
    }
    const canonical = spec.defaultSql === null ? null : normalizeDefault(spec.defaultSql, parsed.type)
    const defaultValue = parsed.serial
      ? { sql: SEQUENCE_DEFAULT, canonical: SEQUENCE_DEFAULT }
      : canonical === null || spec.defaultSql === null
        ? null
        : { sql: spec.defaultSql, canonical }
    columns.push({
      name,
      type: parsed.type,
      nullable: spec.nullable,
      default: defaultValue,
      identity: spec.identity,
    })
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
  return { schema: declared.schema, name: declared.name, columns: keyed, primaryKey, indexes }
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
