import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { useScratchDir } from './support/scratch.js'
import { PROJECT_MIGRATIONS, REPO, runCli, runInProcess } from './support/cli.js'

/**
 * `schema:check`, the offline CI drift check: no DATABASE_URL, a fresh
 * in-memory database, exit 0 / 2 / 1. Each exit code is checked through the
 * CLI process as CI runs it; the other kinds of drift go through the same
 * `main` in this process, which spares each a Node start-up (every run still
 * starts its own fresh PGlite database, as the command does).
 */

const M1 = '0001_create_call_log'
const M2 = '0002_call_log_add_started_at_ended_at_duration_sec'
const M3 = '0003_call_log_add_summary_status'
const M4 = '0004_call_log_index_call_sid_key_created_at_idx'

const scratch = useScratchDir('check')

/** A copy of the committed migrations, changed by `edit`. */
async function migrationsCopy(edit: (dir: string) => Promise<void> = async () => {}): Promise<string> {
  const dir = await mkdtemp(path.join(scratch(), 'migrations-'))
  await cp(PROJECT_MIGRATIONS, dir, { recursive: true })
  await edit(dir)
  return dir
}

/** `schema:check` in a process of its own, with a DATABASE_URL it must ignore. */
const check = (dir: string, extra: string[] = []) =>
  runCli(['check', '--migrations', dir, ...extra], { env: { DATABASE_URL: 'postgres://ignored:never-used@127.0.0.1:1/x' } })
/** The same command in this process. */
const checkInProcess = (dir: string, extra: string[] = []) => runInProcess(['check', '--migrations', dir, ...extra])

describe.concurrent('schema:check', () => {
  it('the landed tree is in sync: exit 0, offline, whatever DATABASE_URL says', async () => {
    const result = await check(PROJECT_MIGRATIONS)
    expect(result.stderr).toBe('')
    expect(result.stdout).toBe(
      'In sync: replaying 4 migrations from generated-migrations/ on a fresh database yields exactly schema/ (1 table, 10 columns, 2 indexes).\n',
    )
    expect(result.code).toBe(0)
  })

  it('a column added to schema/ without a generated migration: exit 2, naming the column and the fix', async () => {
    const schemaFile = path.join(REPO, 'test/fixtures/history/grown.ts')
    const result = await check(PROJECT_MIGRATIONS, ['--schema', schemaFile])
    expect(result.code).toBe(2)
    expect(result.stdout).toContain('call_log.recording_url: column is missing (declared text, null)')
    expect(result.stdout).toContain('run `npm run schema:plan`')
  })

  it('the newest migration removed: exit 2, naming what it created', async () => {
    const dir = await migrationsCopy((d) => rm(path.join(d, `${M4}.ts`)))
    const result = await checkInProcess(dir)
    expect(result.code).toBe(2)
    expect(result.stdout).toContain('call_log.call_log_call_sid_key: index is missing (declared a unique constraint USING btree (call_sid))')
    expect(result.stdout).toContain('call_log.call_log_created_at_idx: index is missing')
  })

  it('an earlier migration edited: exit 2, naming it', async () => {
    const dir = await migrationsCopy(async (d) => {
      const file = path.join(d, `${M2}.ts`)
      await writeFile(file, (await readFile(file, 'utf8')).replace('"duration_sec" integer', '"duration_sec" bigint'))
    })
    const result = await checkInProcess(dir)
    expect(result.code).toBe(2)
    expect(result.stdout).toMatch(new RegExp(`${M2}\\.ts: was edited after it was written`))
    expect(result.stdout).toContain('call_log.duration_sec: type is bigint, declared integer')
  })

  it('a middle migration deleted: exit 2, naming the gap', async () => {
    const dir = await migrationsCopy((d) => rm(path.join(d, `${M2}.ts`)))
    const result = await checkInProcess(dir)
    expect(result.code).toBe(2)
    expect(result.stdout).toContain(`${M3}.ts: was written after ${M2}, which is missing: deleted or renamed`)
  })

  it('migrations reordered: exit 2, naming them', async () => {
    const dir = await migrationsCopy(async (d) => {
      await rename(path.join(d, `${M2}.ts`), path.join(d, '0005_call_log_add_started_at_ended_at_duration_sec.ts'))
    })
    const result = await checkInProcess(dir, ['--json'])
    expect(result.code).toBe(2)
    const report = JSON.parse(result.stdout)
    expect(report.inSync).toBe(false)
    const relative = path.relative(REPO, dir)
    expect(report.problems).toEqual(
      expect.arrayContaining([
        {
          subject: `${relative}/${M3}.ts`,
          problem: `was written after ${M2}, which is missing: deleted or renamed`,
        },
        {
          subject: `${relative}/0005_call_log_add_started_at_ended_at_duration_sec.ts`,
          problem: `was written after ${M1}, but comes after ${M4} here: the files were reordered`,
        },
      ]),
    )
  })

  it('a column declared twice (which JavaScript silently collapses) is an error naming file, table and column: exit 1', async () => {
    const file = path.join(scratch(), 'duplicate-column.ts')
    await writeFile(
      file,
      `import { c, defineSchema, table } from '${path.join(REPO, 'src/dsl/index.js')}'
export const schema = defineSchema(
  table('calls', {
    id: c.integer(),
    status: c.text(),
    'status': c.integer(),
  }),
)\n`,
    )
    const result = await checkInProcess(PROJECT_MIGRATIONS, ['--schema', file])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/table calls \(.*duplicate-column\.ts:6\): column status is declared twice/)
  })

  it('a schema that does not load is an error, not drift: exit 1', async () => {
    const result = await check(PROJECT_MIGRATIONS, ['--schema', path.join(scratch(), 'missing.ts')])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('does not exist')
  })
})
