import type { SqlExpression } from '../dsl/column.js'
import { type CheckSpec, type ForeignKeySpec, REFERENTIAL_ACTIONS, type ReferentialAction } from '../dsl/constraints.js'
import type { TableDefinition } from '../dsl/table.js'
import { compileOffline } from './compile-sql.js'
import { clipBytes, makeObjectName, MAX_NAME_BYTES, NameChooser } from './index-names.js'
import { compareText, displayTableName } from './model.js'
import { isSingleExpression } from './sql-text.js'

/**
 * Foreign keys and check constraints in the normalized model.
 *
 * Foreign keys compare by structure (columns, referenced table and columns,
 * actions), which the catalog holds as such. Check constraints compare by
 * PostgreSQL's own spelling of their expression (`pg_get_constraintdef`): the
 * live side reads it from the catalog, the declared side gets it by adding the
 * declared check to an empty temporary copy of its table
 * (`introspect/check-probe.ts`), as indexes do.
 */

export type { ReferentialAction }

export interface ForeignKeyModel {
  readonly kind: 'foreign-key'
  readonly name: string
  readonly columns: readonly string[]
  readonly references: { readonly schema: string; readonly name: string; readonly columns: readonly string[] }
  readonly onDelete: ReferentialAction
  readonly onUpdate: ReferentialAction
  /** `pg_constraint.convalidated`: false while added `NOT VALID` and not yet validated. Declared ones are valid. */
  readonly valid: boolean
  /**
   * `pg_constraint.conenforced` (PostgreSQL 18 and later; true before): a foreign key made `NOT
   * ENFORCED` by hand is also not valid, and cannot be validated, only dropped and added again.
   * Declared ones are enforced. A check's `NOT ENFORCED` is part of its `canonical` text.
   */
  readonly enforced: boolean
}

export interface CheckModel {
  readonly kind: 'check'
  readonly name: string
  /** The expression as declared, or as PostgreSQL prints it back. */
  readonly sql: string
  /** `pg_get_constraintdef` without `NOT VALID`, e.g. `CHECK ((amount > (0)::numeric))`; `null` on a declared check until probed. */
  readonly canonical: string | null
  readonly valid: boolean
}

export type ConstraintModel = ForeignKeyModel | CheckModel

/** `CHECK ((amount > 0))` or `FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE`: for messages. */
export function constraintSummary(constraint: ConstraintModel): string {
  if (constraint.kind === 'check') return constraint.canonical ?? `CHECK (${constraint.sql})`
  const { references: to } = constraint
  const target = to.schema === 'public' ? to.name : `${to.schema}.${to.name}`
  const actions = [
    constraint.onDelete === 'no action' ? '' : ` ON DELETE ${constraint.onDelete.toUpperCase()}`,
    constraint.onUpdate === 'no action' ? '' : ` ON UPDATE ${constraint.onUpdate.toUpperCase()}`,
  ].join('')
  return `FOREIGN KEY (${constraint.columns.join(', ')}) REFERENCES ${target} (${to.columns.join(', ')})${actions}${constraint.enforced ? '' : ' NOT ENFORCED'}`
}

/**
 * The name of the check `CHECK (column IS NOT NULL)` that makes a column NOT
 * NULL without a long lock: added, validated, then dropped once `SET NOT
 * NULL` has used it. Distinct from PostgreSQL 18's own `<table>_<column>_not_null`.
 */
export function notNullCheckName(table: string, column: string): string {
  const suffix = '_ksm'
  return `${clipBytes(makeObjectName(table, column, 'nn'), MAX_NAME_BYTES - suffix.length)}${suffix}`
}

/** What a table's constraints are checked against: every declared table, by `schema.name`. */
export interface DeclaredTables {
  readonly byKey: ReadonlyMap<string, TableDefinition>
  /** What foreign keys may reference on a table (see {@link uniqueKeysOf}). */
  readonly uniqueKeys: (table: TableDefinition) => ReadonlySet<string>
}

/**
 * The foreign keys and checks a table declares (`.references(...)` on its
 * columns, its `foreignKeys` and `checks` options), named as PostgreSQL names
 * foreign keys when no name is given, sorted by name. Problems go to
 * `problems`, each naming the table.
 *
 * `taken` holds the constraint names already used in the table's PostgreSQL
 * schema: PostgreSQL numbers a derived foreign key name that clashes.
 */
export function constraintsFromDefinition(
  declared: TableDefinition,
  tables: DeclaredTables,
  taken: Set<string>,
  where: () => string,
  problems: string[],
): ConstraintModel[] {
  const constraints: ConstraintModel[] = []
  const known = new Set(Object.keys(declared.columns))
  const names = new NameChooser(declared.name, taken)
  const own = new Set<string>()
  const takeName = (given: string | null, derive: () => string): string => {
    const name = given ?? derive()
    if (typeof name !== 'string' || name === '') problems.push(`${where()}: a constraint name must be a non-empty string`)
    else if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
      problems.push(`${where()}: constraint name "${name}" is ${Buffer.byteLength(name)} bytes; PostgreSQL keeps only ${MAX_NAME_BYTES} and would silently truncate it`)
    } else if (own.has(name)) problems.push(`${where()}: constraint name "${name}" is declared twice on this table`)
    own.add(name)
    taken.add(name)
    return name
  }

  const columnKeys = Object.entries(declared.columns).flatMap(([column, builder]) =>
    builder?.spec?.references ? [{ ...builder.spec.references, columns: [column] } satisfies ForeignKeySpec] : [],
  )
  for (const spec of [...columnKeys, ...(declared.foreignKeys ?? [])]) {
    const key = foreignKeyModel(declared, spec, tables, known, where, problems)
    if (!key) continue
    const name = takeName(spec.name, () => names.take(null, spec.columns, 'fkey', where, problems))
    constraints.push({ ...key, name })
  }
  for (const spec of declared.checks ?? []) {
    const check = checkModel(spec, where, problems)
    if (check) constraints.push({ ...check, name: takeName(spec.name, () => '') })
  }
  return constraints.sort((a, b) => compareText(a.name, b.name))
}

/**
 * The column lists (sorted, joined by `\0`) a foreign key may reference on
 * `table`: its primary key, unique constraints, and unique indexes on plain
 * columns without a predicate, as PostgreSQL requires.
 */
export function uniqueKeysOf(table: TableDefinition): Set<string> {
  const key = (columns: readonly string[]) => [...columns].sort(compareText).join('\0')
  const entries = Object.entries(table.columns)
  const keys = new Set<string>()
  const primaryKey = table.primaryKey ?? entries.filter(([, column]) => column?.spec?.primaryKey).map(([name]) => name)
  if (primaryKey.length > 0) keys.add(key(primaryKey))
  for (const [name, column] of entries) if (column?.spec?.unique) keys.add(key([name]))
  for (const spec of table.unique ?? []) keys.add(key(spec.columns))
  for (const spec of table.indexes ?? []) {
    if (spec.unique && spec.where === null && spec.keys.every((k) => k.column !== null)) keys.add(key(spec.keys.map((k) => k.column as string)))
  }
  return keys
}

function foreignKeyModel(
  declared: TableDefinition,
  spec: ForeignKeySpec,
  tables: DeclaredTables,
  known: ReadonlySet<string>,
  where: () => string,
  problems: string[],
): Omit<ForeignKeyModel, 'name'> | null {
  const at = () => `${where()}, foreign key (${spec.columns.join(', ')})`
  if (!Array.isArray(spec.columns) || spec.columns.length === 0) {
    problems.push(`${where()}: a foreign key needs at least one column: foreignKey('column', ...).references(...)`)
    return null
  }
  for (const column of spec.columns) {
    if (!known.has(column)) problems.push(`${at()}: names column ${String(column)}, which the table does not declare`)
  }
  for (const action of [spec.onDelete, spec.onUpdate]) {
    if (!REFERENTIAL_ACTIONS.includes(action)) problems.push(`${at()}: ${String(action)} is not one of ${REFERENTIAL_ACTIONS.join(', ')}`)
  }
  const target = typeof spec.references === 'string' ? parseTableName(spec.references, declared.schema) : spec.references
  const referenced = target ? tables.byKey.get(`${target.schema}.${target.name}`) : undefined
  if (!target || !referenced) {
    const named = typeof spec.references === 'string' ? spec.references : target ? `${target.schema}.${target.name}` : String(spec.references)
    problems.push(`${at()}: references table ${named}, which the schema does not declare; add it to defineSchema(...)`)
    return null
  }
  const columns = spec.referencedColumns
  if (columns.length !== spec.columns.length) {
    problems.push(`${at()}: references ${columns.length} column(s) of ${displayTableName(referenced)} for ${spec.columns.length} referencing column(s)`)
    return null
  }
  const missing = columns.filter((column) => !Object.hasOwn(referenced.columns, column))
  if (missing.length > 0) {
    problems.push(`${at()}: references column ${missing.join(', ')} of ${displayTableName(referenced)}, which that table does not declare`)
    return null
  }
  if (!tables.uniqueKeys(referenced).has([...columns].sort(compareText).join('\0'))) {
    problems.push(
      `${at()}: references (${columns.join(', ')}) of ${displayTableName(referenced)}, which is neither its primary key nor a unique constraint; PostgreSQL requires one (declare .unique() or unique(...) there)`,
    )
    return null
  }
  return {
    kind: 'foreign-key',
    columns: spec.columns,
    references: { schema: referenced.schema, name: referenced.name, columns },
    onDelete: spec.onDelete,
    onUpdate: spec.onUpdate,
    valid: true,
    enforced: true,
  }
}

function checkModel(spec: CheckSpec, where: () => string, problems: string[]): Omit<CheckModel, 'name'> | null {
  const at = () => `${where()}, check ${String(spec?.name)}`
  const sql = expressionText(spec?.expression)
  if (sql === null) {
    problems.push(`${at()}: the expression binds a value (\${...} in sql\`\`); write constants into the SQL and names with sql.ref(...)`)
    return null
  }
  if (sql === '') {
    problems.push(`${at()}: the expression is empty`)
    return null
  }
  if (sql.includes('\0') || !isSingleExpression(sql)) {
    problems.push(`${at()}: ${JSON.stringify(sql)} is not one SQL expression (an unclosed quote or parenthesis, or a ',', ';' or comment outside them)`)
    return null
  }
  return { kind: 'check', sql, canonical: null, valid: true }
}

/** SQL text of an expression; `null` if a Kysely template binds values. */
function expressionText(expression: SqlExpression | undefined): string | null {
  if (typeof expression === 'string') return expression.trim()
  if (expression === undefined) return ''
  const compiled = compileOffline(expression)
  return compiled.parameters.length > 0 ? null : compiled.sql.trim()
}

/** `audit.orders` or `orders` (in `defaultSchema`); `null` for anything else. */
function parseTableName(text: string, defaultSchema: string): { schema: string; name: string } | null {
  const parts = text.split('.')
  if (parts.length === 1 && parts[0]) return { schema: defaultSchema, name: parts[0] }
  if (parts.length === 2 && parts[0] && parts[1]) return { schema: parts[0], name: parts[1] }
  return null
}
