import type { SqlExpression } from './column.js'

/**
 * Foreign keys and check constraints: what a column's `.references(...)` and
 * a table's `foreignKeys` and `checks` options hold.
 *
 * A referenced table is given as its `table(...)` definition, so TypeScript
 * checks the referenced columns against it (a reference to a column the
 * table lacks does not compile); or, for a table that refers to itself or to
 * one declared later (a cycle TypeScript cannot type), by name, checked when
 * the schema loads.
 *
 * On a table in use, each is added `NOT VALID` (a brief lock) and validated in
 * a transaction of its own, which lets reads and writes go on while it scans.
 *
 * @example
 * export const invoices = table('invoices', {
 *   id: c.bigserial().primaryKey(),
 *   account_id: c.bigint().notNull().references(accounts, 'id', { onDelete: 'cascade' }),
 *   amount: c.numeric(12, 2).notNull(),
 *   parent_id: c.bigint(),
 * }, {
 *   foreignKeys: [foreignKey('parent_id').references('invoices', 'id')],      // to itself, by name
 *   checks: [check('invoices_amount_positive', 'amount > 0')],
 * })
 */

/** What happens to referencing rows when the referenced row is deleted or its key updated. */
export type ReferentialAction = 'no action' | 'restrict' | 'cascade' | 'set null' | 'set default'

export const REFERENTIAL_ACTIONS: readonly ReferentialAction[] = ['no action', 'restrict', 'cascade', 'set null', 'set default']

export interface ReferenceOptions {
  /** `ON DELETE`; `no action` when left out, as in PostgreSQL. */
  readonly onDelete?: ReferentialAction
  /** `ON UPDATE`; `no action` when left out. */
  readonly onUpdate?: ReferentialAction
  /** The constraint name; derived as PostgreSQL would, `<table>_<columns>_fkey`, when left out. */
  readonly name?: string
}

/** The table a foreign key references: a `table(...)` definition, or `schema.table` / `table` by name. */
export type ReferencedTable = { readonly kind: 'table-definition'; readonly name: string; readonly schema: string; readonly columns: object } | string

/** A foreign key as declared (on a column or in a table's `foreignKeys`). */
export interface ForeignKeySpec {
  readonly columns: readonly string[]
  readonly references: ReferencedTable
  readonly referencedColumns: readonly string[]
  readonly onDelete: ReferentialAction
  readonly onUpdate: ReferentialAction
  readonly name: string | null
}

/** The reference a column declares with `.references(...)`; the column itself is the referencing one. */
export type ColumnReference = Omit<ForeignKeySpec, 'columns'>

/** A check constraint as declared. */
export interface CheckSpec {
  readonly name: string
  readonly expression: SqlExpression
}

type ColumnsOf<T> = T extends { readonly columns: infer C } ? keyof C & string : never

/** A foreign key under construction: the referencing columns `C` are known, the reference not yet. */
export class ForeignKeyStart<C extends string> {
  declare readonly __columns: C
  readonly #columns: readonly string[]

  constructor(columns: readonly string[]) {
    this.#columns = columns
  }

  /**
   * The referenced table and its columns, in the order of the referencing
   * ones (a primary key or unique constraint there). By definition, checked by
   * TypeScript; by name (`'orders'`, `'audit.orders'`), checked when the schema loads.
   */
  references<const T extends ReferencedTable>(
    target: T,
    ...columns: T extends string ? string[] : ColumnsOf<T>[]
  ): ForeignKeyBuilder<C> {
    return new ForeignKeyBuilder({
      columns: this.#columns,
      references: target,
      referencedColumns: columns,
      onDelete: 'no action',
      onUpdate: 'no action',
      name: null,
    })
  }
}

export class ForeignKeyBuilder<C extends string> {
  declare readonly __columns: C
  readonly spec: ForeignKeySpec

  constructor(spec: ForeignKeySpec) {
    this.spec = spec
  }

  onDelete(action: ReferentialAction): ForeignKeyBuilder<C> {
    return new ForeignKeyBuilder({ ...this.spec, onDelete: action })
  }

  onUpdate(action: ReferentialAction): ForeignKeyBuilder<C> {
    return new ForeignKeyBuilder({ ...this.spec, onUpdate: action })
  }

  /** The constraint name; derived as PostgreSQL would, `<table>_<columns>_fkey`, when left out. */
  name(name: string): ForeignKeyBuilder<C> {
    return new ForeignKeyBuilder({ ...this.spec, name })
  }
}

/**
 * A foreign key over one or several columns of this table; for one column,
 * `.references(...)` on the column reads better.
 *
 * @example
 * foreignKey('org_id', 'user_id').references(memberships, 'org_id', 'user_id').onDelete('cascade')
 */
export function foreignKey<const C extends string>(...columns: C[]): ForeignKeyStart<C> {
  return new ForeignKeyStart(columns)
}

/**
 * A check constraint: a name and a SQL expression every row must satisfy,
 * used verbatim and compared as PostgreSQL spells it back, so
 * `amount>0` equals the `(amount > (0)::numeric)` it prints.
 *
 * @example
 * check('invoices_amount_positive', 'amount > 0')
 */
export function check(name: string, expression: SqlExpression): CheckSpec {
  return { name, expression }
}
