import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { backfillModels } from '../src/backfill/definition.js'
import { BatchPace } from '../src/backfill/pace.js'
import type { BackfillEvent } from '../src/backfill/events.js'
import { runBackfills } from '../src/backfill/run.js'
import { backfill, c, defineSchema, table } from '../src/dsl/index.js'
import { resolveSettings } from '../src/settings.js'
import { withTestDatabase } from './support/database.js'
import { enabledServers, enabledTargets } from './support/targets.js'

/**
 * The backfill runner in-process, on every target (PGlite, PostgreSQL 18 and
 * 14): a composite primary key of text and bigint walked in small batches,
 * resumed, re-run; and the pace's batch sizing.
 */

const visits = table(
  'visits',
  { region: c.text(), id: c.bigint(), seconds: c.integer(), minutes: c.integer() },
  { primaryKey: ['region', 'id'] },
)
const schema = defineSchema(visits)
const [minutes] = backfillModels(
  [backfill('visits_minutes', visits, { set: { minutes: 'seconds / 60' }, where: 'minutes IS NULL AND seconds IS NOT NULL' })],
  schema,
)

const SETTINGS = {
  batchTargetMs: 100,
  batchMin: 50,
  batchMax: 250,
  pauseMs: 0,
  maxRowsPerSecond: null,
  statementTimeout: '10s',
  lockWaitMs: 1_000,
}

async function visitsTable(exec: (text: string) => Promise<void>): Promise<void> {
  await exec(`
    CREATE TABLE visits (region text, id bigint, seconds integer, minutes integer, PRIMARY KEY (region, id));
    INSERT INTO visits SELECT r, g, CASE WHEN g % 5 = 0 THEN NULL ELSE g * 7 END, NULL
      FROM unnest(ARRAY['north', 'east', 'west']) r, generate_series(1, 1000) g;`)
}

function runner(db: Kysely<unknown>, events: BackfillEvent[], timeouts = { lockTimeout: '1s', statementTimeout: '0' }) {
  return (rerun: string[] = []) =>
    runBackfills({
      db,
      backfills: [minutes!],
      settings: SETTINGS,
      timeouts,
      lockRetries: 1,
      rerun: new Set(rerun),
      signal: new AbortController().signal,
      cancel: async () => {},
      onEvent: (event) => events.push(event),
    })
}

describe.each(enabledTargets())('backfill by a composite key on %s', (target) => {
  it('walks (region, id) in batches, fills every row once, resumes, and a re-run is a no-op', async () => {
    await withTestDatabase(target, async ({ db, exec }) => {
      await visitsTable(exec)
      const events: BackfillEvent[] = []
      const run = runner(db, events)

      const [summary] = await run()
      expect(summary).toMatchObject({ outcome: 'finished', rows: 2_400, rowsDoneTotal: 2_400 })
      const batches = events.filter((e) => e.type === 'batch')
      expect(batches.length).toBeGreaterThanOrEqual(3_000 / 250)
      expect(batches.every((e) => e.keys <= 250)).toBe(true)
      expect(events.find((e) => e.type === 'checked')).toMatchObject({ upTo: ['west', '1000'], remaining: 0, keys: 3_000 })
      const { rows } = await sql<{ wrong: number; left: number }>`
        SELECT count(*) FILTER (WHERE minutes IS DISTINCT FROM seconds / 60)::int AS wrong,
               count(*) FILTER (WHERE minutes IS NULL AND seconds IS NOT NULL)::int AS left FROM visits`.execute(db)
      expect(rows).toEqual([{ wrong: 0, left: 0 }])
      const { rows: progress } = await sql`SELECT last_key, rows_done::int, key_columns FROM schema_migrate.backfills`.execute(db)
      expect(progress).toEqual([{ last_key: ['west', '1000'], rows_done: 2_400, key_columns: ['region', 'id'] }])

      expect((await run())[0]).toMatchObject({ outcome: 'already-finished', rows: 0 })

      // Half-way through a re-run that stopped (as kill -9 leaves it), the next run resumes at the key it reached.
      await exec(`UPDATE visits SET minutes = NULL WHERE region = 'west';
                  UPDATE schema_migrate.backfills SET last_key = '{north,500}', finished_at = NULL`)
      events.length = 0
      const [resumed] = await run()
      expect(events.find((e) => e.type === 'started')).toMatchObject({ resumedAfter: ['north', '500'], rowsDoneBefore: 2_400 })
      expect(resumed).toMatchObject({ outcome: 'finished', rows: 800 })
    })
  })
})

describe.each(enabledServers())('a row of a composite key held by another session on %s', (target) => {
  it('is waited for alone, after the rows before it are filled, and then filled', async () => {
    await withTestDatabase(target, async ({ db, exec, url }) => {
      await visitsTable(exec)
      const holder = new pg.Client({ connectionString: url ?? '' })
      await holder.connect()
      await holder.query(`BEGIN; SELECT * FROM visits WHERE (region, id) = ('north', 601) FOR UPDATE`)
      const release = new Promise((resolve) => setTimeout(resolve, 1_500)).then(() => holder.query('COMMIT')).finally(() => holder.end())
      const events: BackfillEvent[] = []
      const [summary] = await runner(db, events, { lockTimeout: '1s', statementTimeout: '0' })()
      await release
      expect(summary).toMatchObject({ outcome: 'finished', rows: 2_400 })
      const stopped = events.find((e) => e.type === 'batch' && e.held !== null)
      expect(stopped).toMatchObject({ held: ['north', '601'], reached: ['north', '600'] })
      const { rows } = await sql<{ left: number }>`SELECT count(*)::int AS left FROM visits WHERE minutes IS NULL AND seconds IS NOT NULL`.execute(db)
      expect(rows).toEqual([{ left: 0 }])
    })
  })
})

describe('the pace of batches', () => {
  const settings = { batchTargetMs: 100, batchMin: 100, batchMax: 10_000, pauseMs: 0, maxRowsPerSecond: null }

  it('grows batches that finish early and shrinks slow ones, at most 2x a step, between the floor and the ceiling', () => {
    const pace = new BatchPace(settings)
    expect(pace.size).toBe(1_000)
    pace.afterBatch(10, 1_000)
    expect(pace.size).toBe(2_000)
    for (let i = 0; i < 10; i++) pace.afterBatch(1, 0)
    expect(pace.size).toBe(10_000)
    pace.afterBatch(150, 10_000)
    expect(pace.size).toBe(6_667)
    for (let i = 0; i < 20; i++) pace.afterBatch(1_000, 10)
    expect(pace.size).toBe(100)
    expect(pace.shrink()).toBe(false)
  })

  it('halves on a statement timeout, down to the floor', () => {
    const pace = new BatchPace(settings)
    expect(pace.shrink()).toBe(true)
    expect(pace.size).toBe(500)
    pace.shrink()
    pace.shrink()
    expect(pace.size).toBe(125)
    expect(pace.shrink()).toBe(true)
    expect(pace.size).toBe(100)
    expect(pace.shrink()).toBe(false)
  })

  it('rests for the pause, and long enough to keep the rows-per-second ceiling; a batch is never more than a second of it', () => {
    let now = 0
    const pace = new BatchPace({ ...settings, pauseMs: 20, maxRowsPerSecond: 500 }, () => now)
    expect(pace.size).toBe(500)
    now = 100
    expect(pace.afterBatch(100, 500)).toBe(900)
    now = 1_000
    expect(pace.afterBatch(100, 0)).toBe(20)
    expect(pace.size).toBe(500)
  })

  it('is set by flag, then SCHEMA_BACKFILL_* environment, then the config file, then the defaults', () => {
    const env = {
      SCHEMA_BACKFILL_BATCH_TARGET: '250ms',
      SCHEMA_BACKFILL_BATCH_MIN: '10',
      SCHEMA_BACKFILL_BATCH_MAX: '900',
      SCHEMA_BACKFILL_PAUSE: '1s',
      SCHEMA_BACKFILL_MAX_RATE: '5000',
      SCHEMA_BACKFILL_STATEMENT_TIMEOUT: '3s',
      SCHEMA_BACKFILL_LOCK_WAIT: '2min',
    }
    const resolve = (flags = {}) => resolveSettings({ env: { ...env, DATABASE_URL: 'postgres://u@h/db' }, flags, cwd: '/' }).backfill
    expect(resolve()).toEqual({ batchTargetMs: 250, batchMin: 10, batchMax: 900, pauseMs: 1_000, maxRowsPerSecond: 5_000, statementTimeout: '3s', lockWaitMs: 120_000 })
    expect(resolve({ batchMax: '50', batchPause: '0', maxRate: '0', lockWait: '5s' })).toMatchObject({ batchMax: 50, pauseMs: 0, maxRowsPerSecond: null, lockWaitMs: 5_000 })
    const config = {
      file: '/app/schema.config.ts',
      values: { backfillBatchTarget: '50ms', backfillBatchMax: 700, backfillPause: '5ms', backfillMaxRate: 100, backfillLockWait: '1s' },
    }
    expect(resolveSettings({ env: { DATABASE_URL: 'postgres://u@h/db', SCHEMA_BACKFILL_PAUSE: '7ms' }, flags: { maxRate: '0' }, config, cwd: '/' }).backfill).toEqual({
      batchTargetMs: 50, batchMin: 100, batchMax: 700, pauseMs: 7, maxRowsPerSecond: null, statementTimeout: '10s', lockWaitMs: 1_000,
    })
    expect(resolveSettings({ env: { DATABASE_URL: 'postgres://u@h/db' }, flags: {}, cwd: '/' }).backfill).toEqual({
      batchTargetMs: 100, batchMin: 100, batchMax: 50_000, pauseMs: 0, maxRowsPerSecond: null, statementTimeout: '10s', lockWaitMs: 10_000,
    })
  })
})
