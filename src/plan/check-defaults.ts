import type { Deparse, DeparseRequest } from '../introspect/server-deparse.js'
import { type ColumnModel, SEQUENCE_DEFAULT } from '../model/model.js'
import { MigratorError } from '../errors.js'
import { elementTypeOf } from '../model/enum-model.js'
import { normalizeDefault } from '../model/normalize-default.js'
import type { PendingEnums } from './enums.js'
import type { Plan, Step } from './plan.js'

/**
 * Before a plan is written, the server reads every default its steps would
 * set, as the column's type: a value the column cannot hold (`'nope'` for an
 * enum, `'[]'` for an array, a function that does not exist) is refused now,
 * naming the column and PostgreSQL's reason, instead of failing in
 * `schema:apply`. (Generation expressions are left to apply: they may read
 * columns the same plan adds, and their one common fault, not being
 * immutable, shows only in the DDL.)
 *
 * A default on a column of an enum the plan creates or extends cannot be read
 * by the server yet: it is checked against the declared labels instead.
 *
 * @throws MigratorError (stage `plan`) listing every default refused.
 */
export async function checkWrittenDefaults(plan: Plan, deparse: Deparse, pendingEnums: PendingEnums = new Map()): Promise<void> {
  const all = plan.steps.flatMap(defaultsOf)
  const checks = all.filter((check) => !pendingEnums.has(elementTypeOf(check.type)))
  const problems = all.flatMap((check) => {
    const labels = pendingEnums.get(elementTypeOf(check.type))
    const missing = labels ? labelsNotIn(labels, check) : []
    return missing.length === 0 ? [] : [`${check.subject}: default ${check.request.expression} cannot be stored in a ${check.type} column: schema/ declares no label ${missing.join(', ')}`]
  })
  const results = checks.length === 0 ? [] : await deparse(checks.map((check) => check.request))
  problems.push(...checks.flatMap((check, i) => {
    const result = results[i]
    if (!result || !('error' in result)) return []
    const reason = result.error instanceof Error ? result.error.message : String(result.error)
    return [`${check.subject}: default ${check.request.expression} cannot be stored in a ${check.type} column: ${reason}`]
  }))
  if (problems.length > 0) {
    throw new MigratorError('plan', `PostgreSQL would refuse defaults this plan writes:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'fix the default in schema/ (as a value of the column type: an array as a JavaScript array, an enum as one of its labels), then plan again; nothing was written',
    })
  }
}

interface Check {
  readonly subject: string
  readonly type: string
  readonly request: DeparseRequest
}

function defaultsOf(step: Step): Check[] {
  const { change } = step
  switch (change.kind) {
    case 'create-table':
      return change.table.columns.flatMap((column) => columnDefault(`${step.subject}.${column.name}`, column))
    case 'add-column':
      return columnDefault(step.subject, change.column)
    case 'alter-column-default':
      return change.to ? [check(step.subject, change.type, change.to.sql)] : []
    default:
      return []
  }
}

function columnDefault(subject: string, column: ColumnModel): Check[] {
  if (!column.default || column.default.canonical === SEQUENCE_DEFAULT) return []
  return [check(subject, column.type, column.default.sql)]
}

/**
 * The labels a literal default names that `labels` lacks, as SQL literals. An
 * expression other than a literal (a function call, a cast from another type)
 * is left to apply, which runs it once the enum has its labels.
 */
function labelsNotIn(labels: readonly string[], check: Check): string[] {
  const canonical = normalizeDefault(check.request.expression, check.type)
  let values: unknown[]
  if (canonical === null) return []
  if (canonical.startsWith('array:')) values = (JSON.parse(canonical.slice('array:'.length)) as unknown[]).flat(Number.POSITIVE_INFINITY)
  else if (/^'(?:[^']|'')*'$/.test(canonical)) values = [canonical.slice(1, -1).replaceAll("''", "'")]
  else return []
  return [...new Set(values.filter((value): value is string => typeof value === 'string' && !labels.includes(value)))].map(
    (label) => `'${label.replaceAll("'", "''")}'`,
  )
}

function check(subject: string, type: string, expression: string): Check {
  return { subject, type, request: { expression, castTo: type, table: null } }
}
