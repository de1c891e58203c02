import type { RawBuilder } from 'kysely'
import type { IdentityKind } from '../model/model.js'
import type { ColumnReference, ReferencedTable, ReferenceOptions } from './constraints.js'
import type { EnumDefinition } from './enums.js'

/**
 * A column declaration: what `schema/` writes, read both by the migrator
 * (through {@link ColumnBuilder.spec}) and by TypeScript (through the phantom
 * `__types` member, which `DatabaseOf` turns into Kysely column types).
 */

/** What the migrator reads from a declared column. */
export interface ColumnSpec {
  /** The type as declared (`bigserial`, `varchar(255)`, `mood`); parsed and checked when the schema loads. */
  readonly type: string
  readonly nullable: boolean
  readonly default: DeclaredDefault | null
  readonly identity: IdentityKind | null
  /** `GENERATED ALWAYS AS (expression) STORED`. */
  readonly generated: { readonly expression: SqlExpression } | null
  readonly primaryKey: boolean
  /** A one-column unique constraint (`<table>_<column>_key`); see `unique(...)` for several columns. */
  readonly unique?: boolean
  /** A one-column foreign key (`.references(...)`); see `foreignKey(...)` for several columns. */
  readonly references?: ColumnReference
  /** The enum declared with `enumType(...)` that the column (or, for an array, each element) holds. */
  readonly enum?: EnumDefinition
}

/**
 * A value (rendered for the column's SQL type when the schema loads, where
 * the type is known) or a SQL expression used verbatim.
 */
export type DeclaredDefault = { readonly kind: 'value'; readonly value: unknown } | { readonly kind: 'sql'; readonly sql: string }

/** SQL text, or a Kysely `sql` template (names through `sql.ref`/`sql.id`, no bound values). */
export type SqlExpression = string | RawBuilder<unknown>

/** The TypeScript side of a column, as Kysely sees it. */
export interface ColumnTypes {
  /** What a select returns (before `| null`). */
  readonly select: unknown
  /** What an insert or update accepts (before `| null`). */
  readonly insert: unknown
  /** What `.default(...)` accepts: the insert type, less what cannot be written as a literal. */
  readonly defaultValue: unknown
  readonly nullable: boolean
  /** The database fills it in when an insert leaves it out. */
  readonly generated: boolean
  /** `GENERATED ALWAYS` (identity or expression): the application never writes it. */
  readonly readOnly: boolean
}

type With<T extends ColumnTypes, K extends keyof ColumnTypes, V> = Omit<T, K> & { readonly [P in K]: V }

export class ColumnBuilder<T extends ColumnTypes> {
  /** Phantom: carries the column's TypeScript types; never set at run time. */
  declare readonly __types: T
  readonly spec: ColumnSpec

  constructor(spec: ColumnSpec) {
    this.spec = spec
  }

  /** `NOT NULL`. Columns are nullable unless declared otherwise, as in SQL. */
  notNull(): ColumnBuilder<With<T, 'nullable', false>> {
    return new ColumnBuilder({ ...this.spec, nullable: false })
  }

  /** `PRIMARY KEY` (implies `NOT NULL`). For a key over several columns use the table's `primaryKey` option. */
  primaryKey(): ColumnBuilder<With<T, 'nullable', false>> {
    return new ColumnBuilder({ ...this.spec, nullable: false, primaryKey: true })
  }

  /**
   * A unique constraint on this column, named `<table>_<column>_key` as
   * PostgreSQL names it; added to an existing table without blocking writes.
   */
  unique(): ColumnBuilder<T> {
    return new ColumnBuilder({ ...this.spec, unique: true })
  }

  /**
   * A foreign key on this column, to a column of `target` (a primary key or
   * unique constraint there), named `<table>_<column>_fkey` as PostgreSQL
   * names it. By definition, TypeScript checks the referenced column; by name
   * (a table that refers to itself, or to one declared later), the schema's
   * loading does.
   *
   * @example
   * account_id: c.bigint().notNull().references(accounts, 'id', { onDelete: 'cascade' })
   * parent_id: c.bigint().references('categories', 'id')
   */
  references<const R extends ReferencedTable>(
    target: R,
    column: R extends { readonly columns: infer C } ? keyof C & string : string,
    options: ReferenceOptions = {},
  ): ColumnBuilder<T> {
    const reference: ColumnReference = {
      references: target,
      referencedColumns: [column],
      onDelete: options.onDelete ?? 'no action',
      onUpdate: options.onUpdate ?? 'no action',
      name: options.name ?? null,
    }
    return new ColumnBuilder({ ...this.spec, references: reference })
  }

  /**
   * A constant default: any value the column's insert type accepts, rendered
   * as the literal its SQL type reads (`'0.0'` on numeric as `0.0`, `[]` on
   * `text[]` as `'{}'`, an object on jsonb as JSON text). A value the type
   * cannot hold (`1.5` on integer, `100` on `numeric(3,2)`) is refused when
   * the schema loads.
   *
   * @example
   * status: c.text().notNull().default('queued')
   * amount: c.numeric(12, 2).notNull().default('0.0')
   * tags: c.array(c.text()).notNull().default([])
   */
  default(value: T['defaultValue']): ColumnBuilder<With<T, 'generated', true>> {
    return new ColumnBuilder({ ...this.spec, default: { kind: 'value', value } })
  }

  /**
   * A default given as a SQL expression, used verbatim. Write it as
   * PostgreSQL prints it back (`now()`, `CURRENT_TIMESTAMP`, `gen_random_uuid()`)
   * and `schema:verify` will find it equal.
   *
   * @example
   * created_at: c.timestamptz().notNull().defaultSql('now()')
   */
  defaultSql(expression: string): ColumnBuilder<With<T, 'generated', true>> {
    return new ColumnBuilder({ ...this.spec, default: { kind: 'sql', sql: expression } })
  }

  /**
   * `GENERATED ALWAYS AS (expression) STORED`: PostgreSQL computes the column
   * from others in the row; the application reads it and never writes it.
   * Compared with the database by expression, as PostgreSQL understands it,
   * so `price*qty` matches the `(price * qty)` it prints back. Use Kysely's
   * `sql` with `sql.ref` for names that need quoting.
   *
   * @example
   * total: c.numeric(12, 2).generatedAlwaysAs('price * qty')
   * label: c.text().generatedAlwaysAs(sql`lower(${sql.ref('Display Name')})`)
   */
  generatedAlwaysAs(expression: SqlExpression): ColumnBuilder<With<With<T, 'generated', true>, 'readOnly', true>> {
    return new ColumnBuilder({ ...this.spec, generated: { expression } })
  }

  /** `GENERATED ALWAYS AS IDENTITY`: inserts may not set it. */
  generatedAlwaysAsIdentity(): ColumnBuilder<With<With<With<T, 'nullable', false>, 'generated', true>, 'readOnly', true>> {
    return new ColumnBuilder({ ...this.spec, nullable: false, identity: 'always' })
  }

  /** `GENERATED BY DEFAULT AS IDENTITY`: inserts may set it. */
  generatedByDefaultAsIdentity(): ColumnBuilder<With<With<T, 'nullable', false>, 'generated', true>> {
    return new ColumnBuilder({ ...this.spec, nullable: false, identity: 'by-default' })
  }
}
