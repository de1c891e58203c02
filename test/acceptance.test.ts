import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyMigrations, SchemaMismatchError } from '../src/apply/apply.js'
import { breaksSchema } from '../src/diff/describe.js'
import { loadMigrations } from '../src/migrations/files.js'
import { generateMigration } from '../src/migrations/generate.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { planAgainst } from '../src/pipeline.js'
import type { Plan } from '../src/plan/plan.js'
import { CASES } from './acceptance/cases.js'
import { REPO } from './support/cli.js'
import { withTestDatabase } from './support/database.js'
import { enabledTargets } from './support/targets.js'

/**
 * One runner for every acceptance case: plan, write the plan as a generated
 * migration, load it back and apply it with the production executor (the same
 * transaction, timeouts and post-apply assertion `schema:apply` uses), then
 * plan again and require no steps.
 */

const timeouts = { lockTimeout: '5s', statementTimeout: '0' }
const stepsOf = (plan: Plan) => plan.steps.map((s) => `${s.change.kind} ${s.subject}`)
const heldBackOf = (plan: Plan) => plan.heldBack.flatMap((h) => h.hazards.map((z) => `${z.code} ${h.subject}`))

let scratch: string
beforeAll(async () => {
  await mkdir(path.join(REPO, '.tmp'), { recursive: true })
  // Inside the repository, so generated files resolve `kysely` as they do in a project.
  scratch = await mkdtemp(path.join(REPO, '.tmp', 'acceptance-'))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

describe.each(enabledTargets())('acceptance on %s', (target) => {
  it.each(CASES)('$name', async (testCase) => {
    await withTestDatabase(target, async ({ db, exec }) => {
      if (testCase.before) await exec(testCase.before)
      const declared = modelFromDefinition(testCase.schema)
      const request = { declared, timeouts, allow: new Set(testCase.allow ?? []) }

      const { plan } = await planAgainst(db, request)
      expect(stepsOf(plan)).toEqual(testCase.steps)
      expect(heldBackOf(plan)).toEqual(testCase.heldBack ?? [])
      testCase.sqlContains?.forEach((fragment, i) => expect(plan.steps[i]?.sql).toContain(fragment))

      const dir = await mkdtemp(path.join(scratch, `${target}-`))
      await generateMigration({ plan, declared, files: [], pending: [], dir, dryRun: false })
      const apply = applyMigrations({
        db,
        declared,
        migrations: await loadMigrations(dir),
        timeouts,
        lockRetries: 0,
        lockWaitMs: 5_000,
        signal: new AbortController().signal,
        cancelBackend: async () => {},
        onEvent: () => {},
      })
      // The post-apply assertion fails exactly when a held-back change leaves the schema short.
      const missing = plan.heldBack.filter((h) => breaksSchema(h.change)).map((h) => h.subject)
      if (missing.length === 0) {
        await apply
      } else {
        const error = await apply.then(() => null, (e: unknown) => e)
        expect(error).toBeInstanceOf(SchemaMismatchError)
        expect((error as SchemaMismatchError).mismatches.map((m) => m.subject)).toEqual(missing)
      }

      const { plan: second } = await planAgainst(db, request)
      expect(stepsOf(second)).toEqual([])
      expect(heldBackOf(second)).toEqual(testCase.heldBack ?? [])
    })
  })
})
