/**
 * Type-level test, checked by `tsc --noEmit` (part of `npm test`): foreign
 * keys name columns TypeScript can check. Each `@ts-expect-error` fails the
 * type check if the line ever compiles.
 */
import { c, check, foreignKey, table } from '../../src/dsl/index.js'

const accounts = table('accounts', { id: c.bigint().primaryKey(), org: c.integer().notNull(), code: c.text().notNull() })

export const referencesDeclaredColumns = table(
  'invoices',
  {
    id: c.bigint().primaryKey(),
    account_id: c.bigint().notNull().references(accounts, 'id', { onDelete: 'cascade' }),
    org: c.integer(),
    code: c.text(),
    parent_id: c.bigint().references('invoices', 'id', { onDelete: 'set null' }),
  },
  {
    foreignKeys: [foreignKey('org', 'code').references(accounts, 'org', 'code').onUpdate('cascade')],
    checks: [check('invoices_code_short', 'length(code) < 10')],
  },
)

export const rejectsUnknownNames = [
  // @ts-expect-error: accounts has no column `account_id`
  c.bigint().references(accounts, 'account_id'),
  // @ts-expect-error: nor `nope` among several
  foreignKey('a', 'b').references(accounts, 'org', 'nope'),
  // @ts-expect-error: `cascading` is not a referential action
  c.bigint().references(accounts, 'id', { onDelete: 'cascading' }),
  // @ts-expect-error: a table that is not declared cannot be referenced by definition
  c.bigint().references(invoicez, 'id'),
]

export const rejectsUnknownReferencingColumns = table(
  'lines',
  { id: c.bigint().primaryKey(), account_id: c.bigint() },
  // @ts-expect-error: lines has no column `acount_id`
  { foreignKeys: [foreignKey('acount_id').references(accounts, 'id')] },
)
