import type { GeneratedMigration } from './migration.js'

/**
 * Offline integrity of `generated-migrations/`: each file must still hold the
 * steps it was written with (its recorded checksum), and the files must form
 * the chain they were written as (each records the one it follows), so an
 * edited, deleted or reordered migration shows without any database.
 */

export interface IntegrityProblem {
  readonly migration: string
  readonly problem: string
}

export function checkIntegrity(files: readonly GeneratedMigration[]): IntegrityProblem[] {
  const problems: IntegrityProblem[] = []
  const names = new Set(files.map((file) => file.name))
  files.forEach((file, index) => {
    const report = (problem: string) => problems.push({ migration: file.name, problem })
    if (file.writtenChecksum === null || file.follows === undefined) {
      report('does not record its checksum and the migration it follows, as schema:plan writes them')
      return
    }
    if (file.writtenChecksum !== file.checksum) {
      report(`was edited after it was written (steps now ${file.checksum}, written as ${file.writtenChecksum})`)
    }

    const previous = files[index - 1]
    const follows = file.follows
    if (follows === null) {
      if (previous) report(`was written as the first migration, but ${previous.name} comes before it`)
    } else if (previous?.name !== follows.name) {
      report(
        names.has(follows.name)
          ? `was written after ${follows.name}, but comes after ${previous?.name ?? 'nothing'} here: the files were reordered`
          : `was written after ${follows.name}, which is missing: deleted or renamed`,
      )
    } else if (follows.checksum !== (previous.writtenChecksum ?? previous.checksum)) {
      report(`was written after a different version of ${follows.name}`)
    }
  })
  return problems
}
