import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { MigratorError } from '../errors.js'
import { importModule } from '../load-module.js'
import { CONFIG_KEYS, type SchemaConfig } from './define-config.js'

/**
 * Finding and reading `schema.config.ts`, and the `.env` beside it.
 *
 * The order is the one kysely-ctl (through c12) follows: `.env` first, so the
 * config file can read `process.env`; a variable already set in the
 * environment keeps its value. Then the config file is imported, and every
 * key checked, before anything connects.
 */

/** Looked for in the working directory, in this order; more than one is an error. */
export const CONFIG_FILES = ['schema.config.ts', 'schema.config.mts', 'schema.config.js', 'schema.config.mjs'] as const

export interface LoadedConfig {
  /** The config file's path. */
  readonly file: string
  readonly values: SchemaConfig
}

/**
 * The config file `--config` names, or the one in `cwd`; `null` if there is
 * none (every setting then comes from flags, environment and defaults).
 */
export function findConfigFile(flag: string | undefined, cwd: string): string | null {
  if (flag !== undefined) {
    const file = path.resolve(cwd, flag)
    if (!existsSync(file)) {
      throw new MigratorError('settings', `config file ${flag} does not exist`, {
        hint: `create it (export default defineConfig({ schema, migrations })), or fix the --config path`,
      })
    }
    return file
  }
  const found = CONFIG_FILES.filter((name) => existsSync(path.join(cwd, name)))
  if (found.length > 1) {
    throw new MigratorError('settings', `${found.join(' and ')} are both in ${cwd}`, {
      hint: 'keep one config file, or name the one to use with --config',
    })
  }
  return found[0] === undefined ? null : path.join(cwd, found[0])
}

/**
 * Sets the variables of `dir/.env` that `env` does not already have. Returns
 * their names. No `.env` is not an error.
 */
export function applyEnvFile(dir: string, env: Record<string, string | undefined>): string[] {
  const file = path.join(dir, '.env')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return []
    throw new MigratorError('settings', `cannot read ${file}: ${code ?? error}`, {
      hint: 'make .env readable, or remove it and set the variables in the environment',
    })
  }
  const applied: string[] = []
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined) continue
    env[name] = value
    applied.push(name)
  }
  return applied
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  const shown = path.basename(file)
  let module: Record<string, unknown>
  try {
    module = await importModule(file)
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    throw new MigratorError('settings', `config file ${shown} failed to load: ${text.split('\n')[0]}`, {
      hint: `fix the error in ${shown}; \`npx tsc --noEmit\` shows type errors with their lines`,
      cause: error,
    })
  }
  const values = module.default
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new MigratorError('settings', `config file ${shown} does not export a configuration as its default export`, {
      hint: "export default defineConfig({ schema: 'db/schema.ts', migrations: 'db/migrations' })",
    })
  }
  const problems: string[] = []
  for (const [key, value] of Object.entries(values)) {
    const expected = (CONFIG_KEYS as Record<string, string>)[key]
    if (expected === undefined) problems.push(`unknown setting "${key}"`)
    else if (value !== undefined && typeof value !== expected) problems.push(`"${key}" must be a ${expected}, not ${typeof value}`)
  }
  if (problems.length > 0) {
    throw new MigratorError('settings', `config file ${shown}: ${problems.join('; ')}`, {
      hint: `the settings are ${Object.keys(CONFIG_KEYS).join(', ')}`,
    })
  }
  return { file, values: values as SchemaConfig }
}
