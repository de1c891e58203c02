/**
 * The database targets every database-facing test runs on, like Kysely's
 * `DIALECTS`. `SCHEMA_TEST_TARGETS=pglite` (or `postgres`) narrows the run.
 */
export const ALL_TARGETS = ['pglite', 'postgres'] as const
export type TargetName = (typeof ALL_TARGETS)[number]

export function enabledTargets(): TargetName[] {
  const wanted = process.env.SCHEMA_TEST_TARGETS
  if (!wanted) return [...ALL_TARGETS]
  const names = wanted.split(',').map((s) => s.trim())
  const unknown = names.filter((n) => !(ALL_TARGETS as readonly string[]).includes(n))
  if (unknown.length > 0) throw new Error(`SCHEMA_TEST_TARGETS: unknown target ${unknown.join(', ')}; use ${ALL_TARGETS.join(',')}`)
  return names as TargetName[]
}
