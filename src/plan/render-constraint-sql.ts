import { sql } from 'kysely'
import type { CheckModel, ConstraintModel, ForeignKeyModel } from '../model/constraint-model.js'
import { render, type TableName } from './render-sql.js'

/**
 * DDL text for foreign keys and check constraints, through the same compiler
 * as every other statement (`sql.id` for each identifier). A check's
 * expression is the SQL `schema/` declares, used verbatim by design.
 *
 * `schema:plan` writes these shapes and apply reads them back
 * (`apply/step-targets.ts`: the tables an `ADD CONSTRAINT ... FOREIGN KEY`
 * locks, a `VALIDATE CONSTRAINT` that runs in a transaction of its own):
 * change one only together with its reader.
 */

const table = (t: TableName) => sql.id(t.schema, t.name)
const columns = (names: readonly string[]) => sql.join(names.map((name) => sql.id(name)))

export interface AddOptions {
  /** `NOT VALID`: checked for new rows at once, for existing ones by a later `VALIDATE CONSTRAINT`. */
  readonly notValid: boolean
}

export function addConstraintSql(on: TableName, constraint: ConstraintModel, options: AddOptions): string {
  return constraint.kind === 'check' ? addCheckSql(on, constraint, options) : addForeignKeySql(on, constraint, options)
}

/** `ALTER TABLE "s"."t" ADD CONSTRAINT "c" FOREIGN KEY ("a") REFERENCES "s"."r" ("id") [ON DELETE ...] [NOT VALID]`. */
export function addForeignKeySql(on: TableName, key: ForeignKeyModel, { notValid }: AddOptions): string {
  const actions = [
    key.onDelete === 'no action' ? sql`` : sql` ON DELETE ${sql.raw(key.onDelete.toUpperCase())}`,
    key.onUpdate === 'no action' ? sql`` : sql` ON UPDATE ${sql.raw(key.onUpdate.toUpperCase())}`,
  ]
  return render(
    sql`ALTER TABLE ${table(on)} ADD CONSTRAINT ${sql.id(key.name)} FOREIGN KEY (${columns(key.columns)}) REFERENCES ${table(key.references)} (${columns(key.references.columns)})${sql.join(actions, sql``)}${notValid ? sql` NOT VALID` : sql``}`,
  )
}

/** `ALTER TABLE "s"."t" ADD CONSTRAINT "c" CHECK (expression) [NOT VALID]`. */
export function addCheckSql(on: TableName, check: Pick<CheckModel, 'name' | 'sql'>, { notValid }: AddOptions): string {
  return render(sql`ALTER TABLE ${table(on)} ADD CONSTRAINT ${sql.id(check.name)} CHECK (${sql.raw(check.sql)})${notValid ? sql` NOT VALID` : sql``}`)
}

/** `CHECK ("column" IS NOT NULL)`: the expression of the check that makes `SET NOT NULL` skip its scan. */
export function notNullExpression(column: string): string {
  return render(sql`${sql.id(column)} IS NOT NULL`)
}

/** Scans the table under SHARE UPDATE EXCLUSIVE (reads and writes go on); run in a transaction of its own. */
export function validateConstraintSql(on: TableName, name: string): string {
  return render(sql`ALTER TABLE ${table(on)} VALIDATE CONSTRAINT ${sql.id(name)}`)
}
