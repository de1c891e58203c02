import { breaksSchema, describeChange } from '../diff/describe.js'
import type { Change } from '../diff/diff.js'
import { narrowAllow } from '../plan/allowance.js'
import { subjectOf, type HeldBack, type Plan, type Step } from '../plan/plan.js'

/**
 * Human and JSON renderings of plans and verification reports. Pure: the
 * CLI decides where the text goes.
 */

const label = (change: Change) => change.kind.replaceAll('-', ' ')

/** Declared backfills by the column they fill (`call_log.duration_sec`), for the steps that add those columns. */
export type FilledBy = ReadonlyMap<string, readonly string[]>

export function renderPlan(plan: Plan, filledBy: FilledBy = new Map()): string {
  const lines: string[] = []
  if (plan.steps.length === 0) {
    lines.push('Plan: nothing to do; the database already has every declared table, column and index.')
  } else {
    lines.push(`Plan: ${count(plan.steps.length, 'step')}, each guarded and run with its own lock and statement timeouts`, '')
    plan.steps.forEach((step, i) => lines.push(...renderStep(step, i + 1, filledBy), ''))
  }
  if (plan.heldBack.length > 0) {
    if (plan.steps.length === 0) lines.push('')
    lines.push(`Held back: ${count(plan.heldBack.length, 'change')} this tool will not make on its own`, '')
    for (const held of plan.heldBack) lines.push(...renderHeldBack(held), '')
  }
  lines.push(summaryLine(plan))
  // A bare code can let through more than was meant, a subject can be mistyped: say what each one did.
  for (const use of plan.allowed) {
    if (!use.unmatched) {
      lines.push(`--allow ${use.allow} unlocked ${count(use.steps, 'step')}.`)
      continue
    }
    const candidates = [...plan.steps, ...plan.heldBack]
      .filter((change) => change.hazards.some((hazard) => hazard.code === use.code))
      .map((change) => narrowAllow(use.code, change.subject))
    const here = candidates.length > 0 ? `changes with ${use.code} here: ${candidates.join(', ')}` : `no change here carries ${use.code}`
    lines.push(`--allow ${use.allow} matches no change in this plan (${here}).`)
  }
  return lines.join('\n')
}

function renderStep(step: Step, n: number, filledBy: FilledBy): string[] {
  const { lockTimeout, statementTimeout } = step.timeouts
  const lines = [
    `${n}. ${label(step.change)} ${step.subject}`,
    ...indent(step.sql, '   '),
    `   lock: ${step.lock === 'none' ? 'none on existing tables' : step.lock}${step.alsoLocks ? ` (and ${step.alsoLocks.lock} on ${step.alsoLocks.table})` : ''} · lock_timeout ${lockTimeout} · statement_timeout ${statementTimeout}${step.transaction ? '' : ' · outside a transaction'}${step.ownTransaction ? ' · in a transaction of its own' : ''}`,
  ]
  for (const warning of step.warnings ?? []) lines.push(`   warning: ${warning}`)
  for (const hazard of step.hazards) lines.push(`   hazard ${hazard.code} (allowed): ${hazard.message}`)
  for (const name of backfillsFor(step, filledBy)) lines.push(`   existing rows: filled after apply by backfill ${name} (schema:backfill)`)
  return lines
}

function backfillsFor(step: Step, filledBy: FilledBy): readonly string[] {
  return step.change.kind === 'add-column' ? (filledBy.get(step.subject) ?? []) : []
}

function renderHeldBack(held: HeldBack): string[] {
  const lines = [`- ${label(held.change)} ${held.subject}`]
  for (const hazard of held.hazards) lines.push(`  hazard ${hazard.code}: ${hazard.message}`)
  if (held.sql === null) {
    lines.push('  not planned automatically: make this change by hand, then run schema:plan again')
  } else {
    const allow = held.needsAllow.map((code) => narrowAllow(code, held.subject)).join(',')
    lines.push(...indent(held.sql, '  would run: '), `  to plan it: --allow ${allow} (or --allow ${held.needsAllow.join(',')} for every such change)`)
  }
  return lines
}

function summaryLine(plan: Plan): string {
  const kinds = new Map<string, number>()
  for (const step of plan.steps) kinds.set(label(step.change), (kinds.get(label(step.change)) ?? 0) + 1)
  const breakdown = [...kinds].map(([kind, n]) => `${n} ${kind}`).join(', ')
  const steps = plan.steps.length === 0 ? 'no steps' : `${count(plan.steps.length, 'step')} (${breakdown})`
  return `Summary: ${steps}; ${plan.heldBack.length} held back.`
}

export function planJson(plan: Plan, filledBy: FilledBy = new Map()): object {
  return {
    steps: plan.steps.map((step) => ({
      backfills: backfillsFor(step, filledBy),
      kind: step.change.kind,
      subject: step.subject,
      sql: step.sql,
      lock: step.lock,
      lockTimeout: step.timeouts.lockTimeout,
      statementTimeout: step.timeouts.statementTimeout,
      hazards: step.hazards,
      transaction: step.transaction,
      ownTransaction: step.ownTransaction,
      ...(step.alsoLocks ? { alsoLocks: step.alsoLocks } : {}),
      warnings: step.warnings ?? [],
    })),
    heldBack: plan.heldBack.map((held) => ({
      kind: held.change.kind,
      subject: held.subject,
      sql: held.sql,
      hazards: held.hazards,
      needsAllow: held.needsAllow,
    })),
    allowed: plan.allowed,
  }
}

export interface VerifyReport {
  /** Where the database lacks or contradicts `schema/`: these fail verification. */
  readonly mismatches: readonly { readonly subject: string; readonly kind: string; readonly problem: string }[]
  /** What the database has beyond `schema/`: reported, left in place. */
  readonly extras: readonly { readonly subject: string; readonly kind: string; readonly problem: string }[]
}

export function verifyReport(changes: readonly Change[]): VerifyReport {
  const entry = (change: Change) => ({ subject: subjectOf(change), kind: change.kind, problem: describeChange(change) })
  return {
    mismatches: changes.filter(breaksSchema).map(entry),
    extras: changes.filter((c) => !breaksSchema(c)).map(entry),
  }
}

export function renderVerify(report: VerifyReport, checked: { tables: number; columns: number; indexes: number }): string {
  const lines: string[] = []
  if (report.mismatches.length === 0) {
    lines.push(`Live schema matches schema/: ${sizeText(checked)} checked.`)
  } else {
    lines.push(`Live schema does not match schema/: ${count(report.mismatches.length, 'difference')}`)
    for (const m of report.mismatches) lines.push(`  ${m.subject}: ${m.problem}`)
    lines.push('Run `npm run schema:plan` to see the steps that close the gap.')
  }
  if (report.extras.length > 0) {
    lines.push(`Not in schema/ (left in place): ${count(report.extras.length, 'object')}`)
    for (const e of report.extras) lines.push(`  ${e.subject}: ${e.problem}`)
  }
  return lines.join('\n')
}

function indent(text: string, prefix: string): string[] {
  const pad = ' '.repeat(prefix.length)
  return text.split('\n').map((line, i) => (i === 0 ? prefix : pad) + line)
}

/** `1 table, 10 columns`, with `, 2 indexes` when the schema declares some. */
export function sizeText(size: { readonly tables: number; readonly columns: number; readonly indexes: number }): string {
  const parts = [count(size.tables, 'table'), count(size.columns, 'column')]
  if (size.indexes > 0) parts.push(`${size.indexes} ${size.indexes === 1 ? 'index' : 'indexes'}`)
  return parts.join(', ')
}

/** `1 step`, `3 steps`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
