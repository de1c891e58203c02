import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  COMPOSE_DIR,
  type ComposeFile,
  invariantProblems,
  loadComposeFile,
  mergeCompose,
  schemaProblems,
} from './support/compose.js'
import { dockerfileCmd } from './support/dockerfile.js'

/** What a production deploy sets: the released images. */
const PROD_ENV = {
  MIGRATE_IMAGE: 'registry.example/migrate:1.4.0',
  API_IMAGE: 'registry.example/api:1.4.0',
  CALLS_IMAGE: 'registry.example/calls:1.4.0',
  WORKER_IMAGE: 'registry.example/worker:1.4.0',
}

async function configs() {
  const base = await loadComposeFile('docker-compose.yml', {})
  const prodOverride = await loadComposeFile('docker-compose.prod.yml', PROD_ENV)
  const merged = mergeCompose(await loadComposeFile('docker-compose.yml', PROD_ENV), prodOverride) as ComposeFile
  return { base, prodOverride, merged }
}

describe('compose files', () => {
  it('each file, and the two merged, are valid against the Compose Specification schema', async () => {
    const { base, prodOverride, merged } = await configs()
    expect(await schemaProblems(base)).toEqual([])
    expect(await schemaProblems(prodOverride)).toEqual([])
    expect(await schemaProblems(merged)).toEqual([])
  })

  it('the schema check catches a misspelt key', async () => {
    const { base } = await configs()
    const typo = structuredClone(base)
    if (typo.services?.api) typo.services.api.depends_on = { migrate: { conditon: 'service_completed_successfully' } as never }
    expect(await schemaProblems(typo)).toContainEqual(expect.stringMatching(/depends_on\/migrate must NOT have additional properties/))
  })

  it('the startup invariants hold in development and in production', async () => {
    const { base, merged } = await configs()
    const cmd = await dockerfileCmd()
    expect(invariantProblems(base, cmd)).toEqual([])
    expect(invariantProblems(merged, cmd)).toEqual([])
  })

  it('production takes the database URL from a secret and runs released images', async () => {
    const { merged } = await configs()
    const services = merged.services ?? {}
    for (const name of ['migrate', 'backfill', 'api', 'calls', 'worker']) {
      expect(services[name]?.environment).toMatchObject({ DATABASE_URL: '', DATABASE_URL_FILE: '/run/secrets/database_url' })
      expect(services[name]?.secrets).toEqual(['database_url'])
    }
    expect(services.migrate?.image).toBe(PROD_ENV.MIGRATE_IMAGE)
    expect(services.backfill?.image).toBe(PROD_ENV.MIGRATE_IMAGE)
    expect(services.db?.ports).toBeUndefined()
  })

  it('production refuses to start without the released image names', async () => {
    await expect(loadComposeFile('docker-compose.prod.yml', {})).rejects.toThrow(/required variable MIGRATE_IMAGE is missing/)
  })

  it('the invariant check catches each broken rule', async () => {
    const { base } = await configs()
    const cmd = await dockerfileCmd()
    const broken = structuredClone(base)
    const services = broken.services ?? {}
    if (services.migrate) services.migrate.restart = 'on-failure'
    if (services.api) services.api.depends_on = { migrate: { condition: 'service_started' }, redis: { condition: 'service_healthy' } }
    if (services.worker) services.worker.environment = { RUN_MIGRATIONS_ON_START: '1' }
    if (services.db) services.db.ports = ['5432:5432']
    if (services.backfill) {
      services.backfill.restart = 'on-failure'
      services.backfill.depends_on = { migrate: { condition: 'service_started' } }
    }
    if (services.calls) services.calls.depends_on = { ...(services.calls.depends_on as object), backfill: { condition: 'service_completed_successfully' } }
    expect(invariantProblems(broken, cmd)).toEqual([
      'migrate: restart is "on-failure", must be "no"',
      'api: must wait for migrate with condition service_completed_successfully',
      'worker: RUN_MIGRATIONS_ON_START must be "0"',
      'backfill: restart is "on-failure", must be "on-failure:N" (bounded)',
      'backfill: must wait for migrate with condition service_completed_successfully',
      'calls: must not wait for backfill (the applications start while it runs)',
      'db: must not publish a port',
    ])
    const applying = structuredClone(base)
    if (applying.services?.backfill) applying.services.backfill.command = undefined
    expect(invariantProblems(applying, cmd)).toEqual([
      'expected one migrate service, found: migrate, backfill',
      'backfill: runs ["node","dist/src/cli/bin.js","apply"], not schema backfill',
    ])
    expect(invariantProblems(base, ['node', 'dist/src/cli/bin.js', 'verify'])).toEqual([
      'expected one migrate service, found: none',
      'migrate: runs ["node","dist/src/cli/bin.js","verify"], not schema apply',
    ])
  })

  const dockerCompose = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p))
  it.runIf(dockerCompose)('docker-compose config accepts both, alone and merged', async () => {
    const run = promisify(execFile)
    const file = (name: string) => ['-f', path.join(COMPOSE_DIR, name)]
    const env = { ...process.env, ...PROD_ENV }
    await run(dockerCompose as string, [...file('docker-compose.yml'), 'config', '-q'], { env })
    await run(dockerCompose as string, [...file('docker-compose.yml'), ...file('docker-compose.prod.yml'), 'config', '-q'], { env })
  })
})
