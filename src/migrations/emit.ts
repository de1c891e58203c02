import { IndentationText, Project, QuoteKind, ts, VariableDeclarationKind, type WriterFunction } from 'ts-morph'
import type { Change } from '../diff/diff.js'
import type { Step } from '../plan/plan.js'
import { dropConstraintSql, dropIndexConcurrentlySql, dropIndexSql } from '../plan/render-index-sql.js'
import { dropColumnSql, dropSchemaSql, dropTableSql } from '../plan/render-sql.js'
import { dropEnumSql } from '../plan/enums.js'
import { type MigrationLink, type MigrationStep, checksumOf, runsInTransaction } from './migration.js'

/**
 * Emits a generated migration as a TypeScript module, with ts-morph.
 *
 * The module is data first (`steps`, which `schema:apply` runs with its own
 * timeouts and retries) and a Kysely migration second (`up`/`down`, so
 * Kysely's `Migrator` can run it too). Output is deterministic: the same plan
 * and schema give byte-identical text, with no dates or machine details.
 */

export interface EmitInput {
  readonly name: string
  readonly schemaHash: string
  readonly steps: readonly Step[]
  /** The migration this one comes after, as written; `null` for the first. */
  readonly follows: MigrationLink | null
}

export function renderMigration(input: EmitInput): string {
  const steps: MigrationStep[] = input.steps.map((step) => ({
    kind: step.change.kind,
    subject: step.subject,
    lock: step.lock,
    hazards: step.hazards.map((hazard) => hazard.code),
    // Written only when false, so migrations without such steps read as they always have.
    ...(step.transaction ? {} : { transaction: false as const }),
    ...(step.ownTransaction ? { ownTransaction: true as const } : {}),
    sql: step.sql,
  }))
  const down = downStatements(input.steps.map((step) => step.change))
  const transactional = runsInTransaction(steps)
  const validates = steps.some((step) => step.ownTransaction === true)

  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, quoteKind: QuoteKind.Single },
  })
  const file = project.createSourceFile(`${input.name}.ts`)
  file.addStatements(header(input, steps))
  // Types only: Kysely itself is imported where `up` and `down` run, so `schema:apply`, which reads
  // the steps and runs them itself, never loads the application's copy of Kysely (a tenth of a second).
  file.addImportDeclaration({ moduleSpecifier: 'kysely', isTypeOnly: true, namedImports: [{ name: 'Kysely' }] })
  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    declarations: [{ name: 'schemaHash', initializer: literal(input.schemaHash) }],
  })
  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['The checksum of `steps` when this file was written; `schema:check` recomputes it.'],
    declarations: [{ name: 'checksum', initializer: literal(checksumOf(steps)) }],
  })
  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['The migration this one was written after: a chain that shows a deleted or reordered file.'],
    declarations: [
      {
        name: 'follows',
        initializer:
          input.follows === null
            ? 'null'
            : `{ name: ${literal(input.follows.name)}, checksum: ${literal(input.follows.checksum)} }`,
      },
    ],
  })
  if (!transactional) {
    file.addVariableStatement({
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: [
        `Runs outside a transaction: ${validates ? 'a constraint is validated in a transaction of its own, and ' : ''}PostgreSQL refuses \`CONCURRENTLY\` inside one. Kysely's \`Migrator\` reads this (\`transactionMode: 'per-migration'\`).`,
      ],
      declarations: [{ name: 'config', initializer: '{ transaction: false }' }],
    })
  }
  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [
      transactional
        ? 'What `schema:apply` runs, in order, one statement per step, in one transaction.'
        : `What \`schema:apply\` runs, in order, one statement per step: each \`transaction: false\` step on its own, ${validates ? 'each `ownTransaction: true` step in a transaction of its own, ' : ''}the steps between them in a transaction each, recording progress after each, so a re-run continues where one stopped.`,
    ],
    declarations: [{ name: 'steps', initializer: (writer) => writeSteps(writer, steps) }],
  })
  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [
      down === null
        ? 'Not every step can be undone, so there is no `down`.'
        : 'Undoes the steps, newest first. Dropping what a step added deletes any data written to it since.',
    ],
    declarations: [{ name: 'downSteps', initializer: down === null ? 'null' : (writer) => writeList(writer, down) }],
  })
  file.addFunction({
    isExported: true,
    isAsync: true,
    name: 'up',
    docs: ["For Kysely's `Migrator`; `schema:apply` runs `steps` itself, with lock timeouts and retries."],
    parameters: [{ name: 'db', type: 'Kysely<unknown>' }],
    returnType: 'Promise<void>',
    statements: [
      ...(transactional
        ? []
        : [
            `if (db.isTransaction) throw new Error(${literal(`${input.name} cannot run inside a transaction (${validates ? 'it validates constraints in transactions of their own, or builds indexes CONCURRENTLY' : 'it builds indexes CONCURRENTLY'}): give Kysely's Migrator transactionMode: 'per-migration', which honours \`config\`, or disableTransactions: true`)})`,
          ]),
      "const { sql } = await import('kysely')",
      'for (const step of steps) await sql.raw(step.sql).execute(db)',
    ],
  })
  if (down !== null) {
    file.addFunction({
      isExported: true,
      isAsync: true,
      name: 'down',
      parameters: [{ name: 'db', type: 'Kysely<unknown>' }],
      returnType: 'Promise<void>',
      statements: ["const { sql } = await import('kysely')", 'for (const statement of downSteps) await sql.raw(statement).execute(db)'],
    })
  }
  file.formatText({ indentSize: 2, convertTabsToSpaces: true, semicolons: ts.SemicolonPreference.Remove })
  // One blank line between top-level statements (not between a doc comment and what it documents).
  return file
    .getFullText()
    .replace(/([^/])\n(?=export |\/\*\* )/g, '$1\n\n')
    .replace(/\n{3,}/g, '\n\n')
}

/**
 * Name of the next migration: a sequence number after the highest existing
 * one, then what it does (`0002_call_log_add_started_at_ended_at`).
 */
export function nextMigrationName(existing: readonly string[], steps: readonly Step[]): string {
  const highest = existing.reduce((max, name) => Math.max(max, Number.parseInt(name, 10) || 0), 0)
  const number = String(highest + 1).padStart(4, '0')
  return `${number}_${slugOf(steps)}`
}

function slugOf(steps: readonly Step[]): string {
  const words: string[] = []
  let lastVerb = ''
  let lastTable = ''
  let lastChange: Change | null = null
  for (const step of steps) {
    // A change of several steps (an index built, then attached) names itself once; a new table's indexes are part of creating it.
    const partOfNewTable = (step.change.kind === 'create-index' || step.change.kind === 'add-constraint') && step.change.newTable
    if (step.change === lastChange || partOfNewTable) continue
    lastChange = step.change
    const [verb, table, object] = slugParts(step.change)
    if (table !== lastTable) words.push(table)
    if (verb !== lastVerb || table !== lastTable) words.push(verb)
    if (object) words.push(object)
    lastVerb = verb
    lastTable = table
  }
  const slug = words
    .join('_')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  // Long plans get a short name; the file's header lists every step.
  const cut = slug.length <= 60 ? slug : slug.slice(0, slug.lastIndexOf('_', 60))
  return cut || 'changes'
}

function slugParts(change: Change): [verb: string, table: string, object: string] {
  switch (change.kind) {
    case 'create-schema':
      return ['create_schema', '', change.schema]
    case 'create-table':
      return ['create', '', change.table.name]
    case 'drop-table':
      return ['drop', '', change.table.name]
    case 'add-column':
      return ['add', change.table.name, change.column.name]
    case 'drop-column':
      return ['drop', change.table.name, change.column.name]
    case 'alter-primary-key':
      return ['alter_primary_key', change.table.name, '']
    case 'alter-partitioning':
      return ['alter_partitioning', change.table.name, '']
    case 'alter-column-type':
    case 'alter-column-nullability':
    case 'alter-column-default':
    case 'alter-column-identity':
    case 'alter-column-generated':
      return ['alter', change.table.name, change.column]
    case 'create-index':
      return ['index', change.table.name, withoutTablePrefix(change.index.name, change.table.name)]
    case 'replace-index':
      return ['rebuild_index', change.table.name, withoutTablePrefix(change.to.name, change.table.name)]
    case 'drop-index':
      return ['drop_index', change.table.name, withoutTablePrefix(change.index.name, change.table.name)]
    case 'add-constraint':
      return ['add_constraint', change.table.name, withoutTablePrefix(change.constraint.name, change.table.name)]
    case 'validate-constraint':
      return ['validate', change.table.name, withoutTablePrefix(change.constraint.name, change.table.name)]
    case 'replace-constraint':
      return ['replace_constraint', change.table.name, withoutTablePrefix(change.to.name, change.table.name)]
    case 'drop-constraint':
      return ['drop_constraint', change.table.name, withoutTablePrefix(change.constraint.name, change.table.name)]
    case 'create-enum':
      return ['create_enum', '', change.enum.name]
    case 'add-enum-value':
      return ['add_label', change.enum.name, change.label]
    case 'alter-enum-labels':
      return ['alter_labels', change.enum.name, '']
    case 'drop-enum':
      return ['drop_enum', '', change.enum.name]
  }
}

/** `call_log_created_at_idx` on `call_log` reads `created_at_idx` in a file name. */
function withoutTablePrefix(name: string, table: string): string {
  return name.startsWith(`${table}_`) && name.length > table.length + 1 ? name.slice(table.length + 1) : name
}

/** Statements that undo `changes`, newest first, or `null` if any change cannot be undone safely. */
function downStatements(changes: readonly Change[]): string[] | null {
  const statements: string[] = []
  let next: Change | null = null
  for (const change of [...changes].reverse()) {
    const later = next
    next = change
    switch (change.kind) {
      case 'create-schema':
        statements.push(dropSchemaSql(change.schema))
        break
      case 'create-table':
        statements.push(dropTableSql(change.table))
        break
      case 'create-enum':
        statements.push(dropEnumSql(change.enum))
        break
      case 'add-column':
        statements.push(dropColumnSql(change.table, change.column.name))
        break
      case 'add-constraint':
        if (change !== later) statements.push(dropConstraintSql(change.table, change.constraint.name))
        break
      case 'create-index':
        // Only the last step of a multi-step change is undone here: one drop undoes the whole index.
        if (change === later) break
        statements.push(
          change.index.constraint
            ? dropConstraintSql(change.table, change.index.name)
            : change.newTable
              ? dropIndexSql(change.table.schema, change.index.name)
              : dropIndexConcurrentlySql(change.table.schema, change.index.name),
        )
        break
      default:
        return null
    }
  }
  return statements
}

function header(input: EmitInput, steps: readonly MigrationStep[]): string {
  const lines = [
    `Generated by \`npm run schema:plan\`. Do not edit: \`schema:apply\` records the checksum of`,
    'these steps when it applies them and refuses this file if they change afterwards.',
    '',
    `Planned from schema ${input.schemaHash}`,
    `Follows ${input.follows?.name ?? 'nothing (the first migration)'}`,
    '',
    'Steps:',
    ...steps.map(
      (step, i) =>
        `  ${i + 1}. ${step.kind} ${step.subject} (lock: ${step.lock}; hazards: ${step.hazards.length === 0 ? 'none' : step.hazards.join(', ')}${step.transaction === false ? '; outside a transaction' : ''}${step.ownTransaction ? '; in a transaction of its own' : ''})`,
    ),
  ]
  return `/*\n${lines.map((line) => ` *${line ? ` ${line.replaceAll('*/', '* /')}` : ''}`).join('\n')}\n */\n`
}

function writeSteps(writer: Parameters<WriterFunction>[0], steps: readonly MigrationStep[]): void {
  writer.write('[').newLine()
  writer.indent(() => {
    for (const step of steps) {
      writer.write('{').newLine()
      writer.indent(() => {
        writer.writeLine(`kind: ${literal(step.kind)},`)
        writer.writeLine(`subject: ${literal(step.subject)},`)
        writer.writeLine(`lock: ${literal(step.lock)},`)
        writer.writeLine(`hazards: ${arrayOf(step.hazards)},`)
        if (step.transaction === false) writer.writeLine('transaction: false,')
        if (step.ownTransaction === true) writer.writeLine('ownTransaction: true,')
        writer.writeLine(`sql: ${templateLiteral(step.sql)},`)
      })
      writer.write('},').newLine()
    }
  })
  writer.write('] as const')
}

function writeList(writer: Parameters<WriterFunction>[0], statements: readonly string[]): void {
  writer.write('[').newLine()
  writer.indent(() => {
    for (const statement of statements) writer.writeLine(`${templateLiteral(statement)},`)
  })
  writer.write(']')
}

/** SQL as a template literal, so multi-line DDL reads as it runs and quotes need no escaping. */
function templateLiteral(text: string): string {
  return `\`${text.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${')}\``
}

/** A string as a single-quoted TypeScript literal. */
function literal(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'")
  return `'${escaped}'`
}

function arrayOf(items: readonly string[]): string {
  return `[${items.map(literal).join(', ')}]`
}
