import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { checksumOf } from '../../src/migrations/migration.js'

/**
 * Migration files written by hand for executor tests: steps schema:plan would
 * never write (a `pg_sleep`, a smuggled statement), with the checksum and
 * chain it records, so apply's integrity check lets them through as it lets
 * through any file left as written.
 */
export interface HandStep {
  readonly sql: string
  readonly kind?: string
  readonly lock?: 'none' | 'ACCESS EXCLUSIVE'
}

export async function writeHandMigrations(
  dir: string,
  migrations: readonly { readonly name: string; readonly steps: readonly HandStep[] }[],
): Promise<void> {
  let follows: { name: string; checksum: string } | null = null
  for (const migration of migrations) {
    const steps = migration.steps.map((step, i) => ({
      kind: step.kind ?? 'add-column',
      subject: `step ${i + 1}`,
      lock: step.lock ?? 'none',
      hazards: [],
      sql: step.sql,
    }))
    const checksum = checksumOf(steps)
    const text = [
      `export const schemaHash = 'hand-written'`,
      `export const checksum = ${JSON.stringify(checksum)}`,
      `export const follows = ${JSON.stringify(follows)}`,
      `export const steps = ${JSON.stringify(steps, null, 2)}`,
      '',
    ].join('\n')
    await writeFile(path.join(dir, `${migration.name}.ts`), text)
    follows = { name: migration.name, checksum }
  }
}
