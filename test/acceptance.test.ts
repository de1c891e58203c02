import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { modelFromDefinition } from '../src/model/from-definition.js'
import { planAgainst } from '../src/pipeline.js'
import type { Plan } from '../src/plan/plan.js'
import { CASES } from './acceptance/cases.js'
import { withTestDatabase } from './support/database.js'
import { enabledTargets } from './support/targets.js'

const timeouts = { lockTimeout: '5s', statementTimeout: '0' }
const stepsOf = (plan: Plan) => plan.steps.map((s) => `${s.change.kind} ${s.subject}`)
const heldBackOf = (plan: Plan) => plan.heldBack.flatMap((h) => h.hazards.map((z) => `${z.code} ${h.subject}`))

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

      for (const step of plan.steps) await sql.raw(step.sql).execute(db)

      const { plan: second } = await planAgainst(db, request)
      expect(stepsOf(second)).toEqual([])
      expect(heldBackOf(second)).toEqual(testCase.heldBack ?? [])
    })
  })
})
