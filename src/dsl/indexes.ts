/**
 * Index and unique constraint declarations: what a table's `indexes` and
 * `unique` options hold. Column names are checked by TypeScript against the
 * table's columns (an index on a column the table lacks does not compile) and
 * again when the schema loads; expressions and `where` predicates are SQL used
 * verbatim, checked by PostgreSQL when `schema:plan` runs.
 *
 * @example
 * table('call_log', { ... }, {
 *   indexes: [
 *     index(desc('created_at')),                                  // call_log_created_at_idx
 *     index('status', 'created_at').where("status = 'queued'"),   // partial
 *     index(expression('lower(from_number)')).name('call_log_from_lower_idx'),
 *     index('tags').using('gin'),
 *   ],
 *   unique: [unique('account_id', 'call_sid')],                   // call_log_account_id_call_sid_key
 * })
 */

export type IndexMethod = 'btree' | 'hash' | 'gin' | 'gist' | 'brin'

export const INDEX_METHODS: readonly IndexMethod[] = ['btree', 'hash', 'gin', 'gist', 'brin']

/** One key of an index, as declared. */
export interface IndexKeySpec {
  /** A column name, or `null` for an expression key. */
  readonly column: string | null
  /** SQL, used verbatim; `null` for a column key. */
  readonly expression: string | null
  readonly descending: boolean
  /** `NULLS FIRST` / `NULLS LAST`; `null` leaves PostgreSQL's default (first when descending). */
  readonly nullsFirst: boolean | null
  /** An operator class such as `text_pattern_ops` or `jsonb_path_ops`; `null` for the type's default. */
  readonly opclass: string | null
}

/** An index as declared in a table's `indexes` option. */
export interface IndexSpec {
  readonly keys: readonly IndexKeySpec[]
  readonly unique: boolean
  readonly method: IndexMethod
  /** Columns stored in the index but not part of its key (`INCLUDE`). */
  readonly include: readonly string[]
  /** The predicate of a partial index, SQL used verbatim. */
  readonly where: string | null
  /** `null`: derived as PostgreSQL would, `<table>_<columns>_idx`. */
  readonly name: string | null
}

/** A unique constraint as declared in a table's `unique` option. */
export interface UniqueSpec {
  readonly columns: readonly string[]
  /** `null`: derived as PostgreSQL would, `<table>_<columns>_key`. */
  readonly name: string | null
}

/** A key of an index; `C` is the column it names (`never` for an expression). */
export class IndexKey<C extends string> {
  /** Phantom: the column this key names, checked against the table's columns. */
  declare readonly __column: C
  readonly spec: IndexKeySpec

  constructor(spec: IndexKeySpec) {
    this.spec = spec
  }

  asc(): IndexKey<C> {
    return new IndexKey({ ...this.spec, descending: false })
  }

  desc(): IndexKey<C> {
    return new IndexKey({ ...this.spec, descending: true })
  }

  nullsFirst(): IndexKey<C> {
    return new IndexKey({ ...this.spec, nullsFirst: true })
  }

  nullsLast(): IndexKey<C> {
    return new IndexKey({ ...this.spec, nullsFirst: false })
  }

  /** A non-default operator class, e.g. `text_pattern_ops` (btree `LIKE 'x%'`) or `jsonb_path_ops` (gin). */
  opclass(name: string): IndexKey<C> {
    return new IndexKey({ ...this.spec, opclass: name })
  }
}

/** A column key in ascending order (the default); chain `.nullsFirst()`, `.opclass(...)`. */
export function asc<const C extends string>(column: C): IndexKey<C> {
  return new IndexKey({ column, expression: null, descending: false, nullsFirst: null, opclass: null })
}

/** A column key in descending order: `index(desc('created_at'))` serves "newest first" listings. */
export function desc<const C extends string>(column: C): IndexKey<C> {
  return asc(column).desc()
}

/**
 * An expression key, SQL used verbatim: `expression('lower(email)')`.
 * Write it as you would in `CREATE INDEX`; PostgreSQL's own spelling is what
 * the migrator compares, so `LOWER(email)` and `lower(email)` are the same.
 */
export function expression(sql: string): IndexKey<never> {
  return new IndexKey({ column: null, expression: sql, descending: false, nullsFirst: null, opclass: null })
}

type KeyColumn<K> = K extends string ? K : K extends IndexKey<infer C> ? C : never

/** An index under construction; `C` is every column it names. */
export class IndexBuilder<C extends string> {
  /** Phantom: the columns this index names, checked against the table's columns. */
  declare readonly __columns: C
  readonly spec: IndexSpec

  constructor(spec: IndexSpec) {
    this.spec = spec
  }

  /** `CREATE UNIQUE INDEX`: for a plain list of columns, prefer `unique(...)`, a constraint other tables can reference. */
  unique(): IndexBuilder<C> {
    return new IndexBuilder({ ...this.spec, unique: true })
  }

  /** The access method; `btree` when left out. */
  using(method: IndexMethod): IndexBuilder<C> {
    return new IndexBuilder({ ...this.spec, method })
  }

  /** Columns stored alongside the key (`INCLUDE`), so index-only scans can return them. */
  include<const I extends string>(...columns: I[]): IndexBuilder<C | I> {
    return new IndexBuilder({ ...this.spec, include: [...this.spec.include, ...columns] })
  }

  /** A partial index: only rows matching this SQL predicate, e.g. `"status = 'queued'"`. */
  where(predicate: string): IndexBuilder<C> {
    return new IndexBuilder({ ...this.spec, where: predicate })
  }

  /** The index name; derived as PostgreSQL would when left out. */
  name(name: string): IndexBuilder<C> {
    return new IndexBuilder({ ...this.spec, name })
  }
}

/**
 * An index over columns (by name, or `asc`/`desc` keys) and expressions, in key order.
 *
 * @example
 * index(desc('created_at'))
 * index('org_id', 'created_at').where('deleted_at IS NULL')
 */
export function index<const K extends readonly (string | IndexKey<string>)[]>(...keys: K): IndexBuilder<KeyColumn<K[number]>> {
  return new IndexBuilder({
    keys: keys.map((key) => (typeof key === 'string' ? asc(key).spec : key.spec)),
    unique: false,
    method: 'btree',
    include: [],
    where: null,
    name: null,
  })
}

/** A unique constraint under construction; `C` is every column it names. */
export class UniqueBuilder<C extends string> {
  declare readonly __columns: C
  readonly spec: UniqueSpec

  constructor(spec: UniqueSpec) {
    this.spec = spec
  }

  /** The constraint name (also its index's); derived as PostgreSQL would when left out. */
  name(name: string): UniqueBuilder<C> {
    return new UniqueBuilder({ ...this.spec, name })
  }
}

/**
 * A unique constraint over several columns; for one column, `.unique()` on the column.
 *
 * @example
 * unique('org_id', 'user_id')   // <table>_org_id_user_id_key
 */
export function unique<const C extends string>(...columns: C[]): UniqueBuilder<C> {
  return new UniqueBuilder({ columns, name: null })
}
