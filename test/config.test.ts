import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { applyEnvFile, findConfigFile, loadConfig } from '../src/config/load-config.js'
import { resolveSettings } from '../src/settings.js'
import { PROJECT_MIGRATIONS, PROJECT_SCHEMA, REPO, runCli } from './support/cli.js'
import { useScratchDir } from './support/scratch.js'

/**
 * `schema.config.ts` and `.env`: where they are found, what they may hold,
 * and where they sit in the order flags > environment (with `.env`) > config
 * file > defaults.
 */

const scratch = useScratchDir('config')

async function appWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(scratch(), 'app-'))
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true })
    await writeFile(path.join(dir, name), text)
  }
  return dir
}

const CONFIG = (body: string) => `import { defineConfig } from '${path.join(REPO, 'src/index.js')}'\nexport default defineConfig(${body})\n`

describe('the config file', () => {
  it('a flag beats the environment, which beats the config file, which beats the defaults', async () => {
    const dir = await appWith({ 'schema.config.ts': CONFIG(`{ lockTimeout: '2s', lockRetries: 7, schema: 'db/schema.ts', migrations: 'db/migrations' }`) })
    const config = await loadConfig(path.join(dir, 'schema.config.ts'))
    const settings = (env: Record<string, string>, flags: Record<string, string> = {}) =>
      resolveSettings({ env, flags, config, cwd: REPO })

    const fromConfig = settings({})
    expect(fromConfig.timeouts).toEqual({ lockTimeout: '2s', statementTimeout: '0' })
    expect(fromConfig.lockRetries).toBe(7)
    // The config file's paths are relative to itself, wherever the command runs.
    expect(fromConfig.schemaPath).toBe(path.join(dir, 'db/schema.ts'))
    expect(fromConfig.migrationsDir).toBe(path.join(dir, 'db/migrations'))
    expect(fromConfig.appDir).toBe(dir)

    const fromEnv = settings({ SCHEMA_LOCK_TIMEOUT: '3s', SCHEMA_LOCK_RETRIES: '1', SCHEMA_MODULE: 'schema/index.ts' })
    expect(fromEnv.timeouts.lockTimeout).toBe('3s')
    expect(fromEnv.lockRetries).toBe(1)
    expect(fromEnv.schemaPath).toBe(PROJECT_SCHEMA)

    const fromFlag = settings({ SCHEMA_LOCK_TIMEOUT: '3s' }, { lockTimeout: '4s', migrations: 'generated-migrations' })
    expect(fromFlag.timeouts.lockTimeout).toBe('4s')
    expect(fromFlag.migrationsDir).toBe(PROJECT_MIGRATIONS)

    const defaults = resolveSettings({ env: {}, flags: {}, config: null, cwd: dir })
    expect(defaults.timeouts.lockTimeout).toBe('5s')
    expect(defaults.schemaPath).toBe(path.join(dir, 'schema/index.ts'))
  })

  it('DATABASE_URL beats databaseUrl in the config file', async () => {
    const dir = await appWith({ 'schema.config.mjs': `export default { databaseUrl: 'postgres://app@config-host/app' }\n` })
    const config = await loadConfig(path.join(dir, 'schema.config.mjs'))
    expect(resolveSettings({ env: {}, flags: {}, config, cwd: dir }).target.display).toBe('postgres://app@config-host/app')
    const fromEnv = resolveSettings({ env: { DATABASE_URL: 'postgres://app@env-host/app' }, flags: {}, config, cwd: dir })
    expect(fromEnv.target.display).toBe('postgres://app@env-host/app')
  })

  it('is found in the working directory as .ts, .mts, .js or .mjs; two are an error; --config names any file', async () => {
    expect(findConfigFile(undefined, await appWith({}))).toBeNull()
    const js = await appWith({ 'schema.config.js': 'export default {}\n' })
    expect(findConfigFile(undefined, js)).toBe(path.join(js, 'schema.config.js'))
    const two = await appWith({ 'schema.config.ts': 'export default {}\n', 'schema.config.mjs': 'export default {}\n' })
    expect(() => findConfigFile(undefined, two)).toThrow(/schema\.config\.ts and schema\.config\.mjs are both in/)
    expect(findConfigFile('config/migrate.ts', await appWith({ 'config/migrate.ts': 'export default {}\n' }))).toMatch(/config\/migrate\.ts$/)
    expect(() => findConfigFile('nope.ts', two)).toThrow(/config file nope\.ts does not exist/)
  })

  it('unknown settings and wrong types are refused by name, with the known settings as the fix; no value is echoed', async () => {
    const dir = await appWith({ 'schema.config.ts': CONFIG(`{ migration: 'db', lockRetries: '3', databaseUrl: 5 } as never`) })
    const error = await loadConfig(path.join(dir, 'schema.config.ts')).catch((e: unknown) => e)
    expect(error).toMatchObject({
      stage: 'settings',
      message: 'config file schema.config.ts: unknown setting "migration"; "lockRetries" must be a number, not string; "databaseUrl" must be a string, not number',
    })
    expect((error as { hint: string }).hint).toContain('schema, migrations, databaseUrl')
  })

  it('a config file that fails to load or exports nothing is named', async () => {
    const broken = await appWith({ 'schema.config.ts': `export default defineConfig({\n` })
    await expect(loadConfig(path.join(broken, 'schema.config.ts'))).rejects.toThrow(/config file schema\.config\.ts failed to load/)
    const empty = await appWith({ 'schema.config.ts': 'export const schema = "db/schema.ts"\n' })
    await expect(loadConfig(path.join(empty, 'schema.config.ts'))).rejects.toThrow(/does not export a configuration as its default export/)
  })
})

describe('.env', () => {
  it('sets what the environment lacks and never overrides what it has', async () => {
    const dir = await appWith({ '.env': 'DATABASE_URL=postgres://app:from-file@db/app\nSCHEMA_LOCK_TIMEOUT=9s # comment\nQUOTED="a b"\n' })
    const env: Record<string, string | undefined> = { SCHEMA_LOCK_TIMEOUT: '1s' }
    expect(applyEnvFile(dir, env)).toEqual(['DATABASE_URL', 'QUOTED'])
    expect(env).toEqual({ SCHEMA_LOCK_TIMEOUT: '1s', DATABASE_URL: 'postgres://app:from-file@db/app', QUOTED: 'a b' })
    expect(applyEnvFile(await appWith({}), env)).toEqual([])
  })

  it('is read before the config file, which can use it; the CLI shows the target it names, password masked', async () => {
    const dir = await appWith({
      '.env': 'APP_DB=postgres://app:s3cret-value@127.0.0.1:1/app\n',
      'schema.config.ts': CONFIG(`{ databaseUrl: process.env.APP_DB, schema: '${PROJECT_SCHEMA}', connectTimeout: '1s' }`),
    })
    const result = await runCli(['verify'], { cwd: dir })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('cannot connect to postgres://app:***@127.0.0.1:1/app')
    expect(`${result.stdout}${result.stderr}`).not.toContain('s3cret-value')
  })
})

describe('compiled TypeScript on disk', () => {
  const unreachable = ['verify', '--database-url', 'postgres://app@127.0.0.1:1/app', '--connect-timeout', '1s']

  it('is cached in a folder only this user can enter', async () => {
    const tmp = await mkdtemp(path.join(scratch(), 'tmp-'))
    await runCli(unreachable, { env: { TMPDIR: tmp } })
    const [cache] = await readdir(tmp)
    expect(cache).toMatch(/^kysely-schema-migrate-/)
    expect((await stat(path.join(tmp, cache as string))).mode & 0o777).toBe(0o700)
    // Keyed by content: the compiled schema.config.ts is the file that holds its settings.
    const compiled = path.join(tmp, cache as string, 'by-content')
    const files = await readdir(compiled)
    const texts = await Promise.all(files.map((file) => readFile(path.join(compiled, file), 'utf8')))
    const config = files.find((_, i) => texts[i]?.includes("migrations: 'generated-migrations'"))
    expect(config).toBeDefined()
    expect((await stat(path.join(compiled, config as string))).mode & 0o777).toBe(0o600)
  })

  it('is compiled once per content: a copy in another folder is not compiled again, unless it reads import.meta', async () => {
    const tmp = await mkdtemp(path.join(scratch(), 'tmp-'))
    const compiledHolding = async (marker: string) => {
      const dir = path.join(tmp, `kysely-schema-migrate-${process.getuid?.() ?? 'user'}`, 'by-content')
      const files = await readdir(dir)
      const texts = await Promise.all(files.map((file) => readFile(path.join(dir, file), 'utf8')))
      return texts.filter((text) => text.includes(marker)).length
    }
    // The same text in two folders: the second run reuses the first one's compiled code.
    const plain = CONFIG(`{ databaseUrl: 'postgres://app@127.0.0.1:1/plain-copy', connectTimeout: '1s', schema: '${PROJECT_SCHEMA}' }`)
    for (const dir of [await appWith({ 'schema.config.ts': plain }), await appWith({ 'schema.config.ts': plain })]) {
      const result = await runCli(['verify'], { cwd: dir, env: { TMPDIR: tmp } })
      expect(result.stderr).toContain('cannot connect to postgres://app@127.0.0.1:1/plain-copy')
    }
    expect(await compiledHolding('plain-copy')).toBe(1)
    // import.meta is compiled into the file's own path: each folder gets its own, and sees itself.
    const located = CONFIG(
      `{ databaseUrl: 'postgres://app@127.0.0.1:1/' + path.basename(path.dirname(new URL(import.meta.url).pathname)), connectTimeout: '1s', schema: '${PROJECT_SCHEMA}' }`,
    ).replace('\n', `\nimport path from 'node:path'\nexport const marker = 'located-copy'\n`)
    for (const dir of [await appWith({ 'schema.config.ts': located }), await appWith({ 'schema.config.ts': located })]) {
      const result = await runCli(['verify'], { cwd: dir, env: { TMPDIR: tmp } })
      expect(result.stderr).toContain(`cannot connect to postgres://app@127.0.0.1:1/${path.basename(dir)}`)
    }
    expect(await compiledHolding('located-copy')).toBe(2)
  })

  it('is not cached at all in a folder others can write to', async () => {
    const tmp = await mkdtemp(path.join(scratch(), 'tmp-'))
    const planted = path.join(tmp, `kysely-schema-migrate-${process.getuid?.() ?? 'user'}`)
    await mkdir(planted)
    await chmod(planted, 0o777)
    const result = await runCli(unreachable, { env: { TMPDIR: tmp } })
    expect(result.stderr).toContain('cannot connect to postgres://app@127.0.0.1:1/app')
    expect(await readdir(planted)).toEqual([])
  })
})
