import { mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import { describe } from 'vitest'
import { SchemaMismatchError } from '../src/apply/apply.js'
import { breaksSchema } from '../src/diff/describe.js'
import { modelFromDefinition } from '../src/model/from-definition.js'
import type { Plan } from '../src/plan/plan.js'
import { CASES } from './acceptance/cases.js'
import { CONSTRAINT_CASES } from './acceptance/constraint-cases.js'
import { ENUM_CASES } from './acceptance/enum-cases.js'
import { REAL_WORLD_FINDINGS } from './acceptance/real-world-cases.js'
import { withTestDatabase } from './support/database.js'
import { planFor, writeAndApply } from './support/pipeline.js'
import { useScratchDir } from './support/scratch.js'
import { casesOn } from './support/cases.js'
import { enabledTargets } from './support/targets.js'

/**
 * One runner for every acceptance case: plan, write the plan as a generated
 * migration, load it back and apply it with the production executor (the same
 * transaction, timeouts and post-apply assertion `schema:apply` uses), then
 * plan again and require no steps.
 */

const stepsOf = (plan: Plan) => plan.steps.map((s) => `${s.change.kind} ${s.subject}`)
const heldBackOf = (plan: Plan) => plan.heldBack.flatMap((h) => h.hazards.map((z) => `${z.code} ${h.subject}`))

const scratch = useScratchDir('acceptance')

describe.each(enabledTargets())('acceptance on %s', (target) => {
  casesOn(target).for([...CASES, ...CONSTRAINT_CASES, ...REAL_WORLD_FINDINGS, ...ENUM_CASES])('$name', async (testCase, { expect }) => {
    await withTestDatabase(target, async ({ db, exec }) => {
      if (testCase.before) await exec(testCase.before)
      const declared = modelFromDefinition(testCase.schema)
      const plan = await planFor(db, declared, testCase.allow)
      expect(stepsOf(plan)).toEqual(testCase.steps)
      expect(heldBackOf(plan)).toEqual(testCase.heldBack ?? [])
      testCase.sqlContains?.forEach((fragment, i) => expect(plan.steps[i]?.sql).toContain(fragment))

      const apply = writeAndApply(db, declared, plan, await mkdtemp(path.join(scratch(), `${target}-`)))
      // The post-apply assertion fails exactly when a held-back change leaves the schema short.
      const missing = plan.heldBack.filter((h) => breaksSchema(h.change)).map((h) => h.subject)
      if (missing.length === 0) {
        await apply
      } else {
        const error = await apply.then(() => null, (e: unknown) => e)
        expect(error).toBeInstanceOf(SchemaMismatchError)
        expect((error as SchemaMismatchError).mismatches.map((m) => m.subject)).toEqual(missing)
      }

      const second = await planFor(db, declared, testCase.allow)
      expect(stepsOf(second)).toEqual([])
      expect(heldBackOf(second)).toEqual(testCase.heldBack ?? [])
    })
  })
})
