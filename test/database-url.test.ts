import { parse } from 'pg-connection-string'
import { describe, expect, it } from 'vitest'
import { parseDatabaseUrl } from '../src/database-url.js'
import { MigratorError } from '../src/errors.js'

/**
 * Database URLs with every kind of password, written raw (as people paste
 * them) and percent-encoded (as they should): a URL is either refused without
 * echoing the password, or read exactly as node-postgres will read it, with
 * the password in the password and never in the host, port, database or the
 * displayed URL.
 */

const CHARACTERS = `@:/?#%[]!$&'()*+,;=~^"\\ |<>{}\`.-_abcXYZ019é\t`
const RUNS = Number(process.env.SCHEMA_URL_FUZZ_RUNS ?? 20_000)

/** A small seeded generator, so a failure names a password that reproduces. */
function random(seed: number) {
  let state = seed
  return (n: number) => {
    state = (state * 1_103_515_245 + 12_345) & 0x7fffffff
    return state % n
  }
}

const FORMS: readonly { readonly url: (password: string) => string; readonly host: string; readonly encoded?: boolean }[] = [
  { url: (pw) => `postgres://app:${pw}@db.example:5432/app`, host: 'db.example' },
  { url: (pw) => `postgres://app:${pw}@127.0.0.1/app`, host: '127.0.0.1' },
  { url: (pw) => `postgres://app:${pw}@[::1]:5432/app`, host: '::1' },
  { url: (pw) => `postgres://app:${pw}@/app?host=/run/postgresql`, host: '/run/postgresql' },
  { url: (pw) => `postgres://app:${encodeURIComponent(pw)}@db.example:5432/app?sslmode=disable`, host: 'db.example', encoded: true },
]

describe('parseDatabaseUrl', () => {
  it(`${RUNS} random passwords in five URL forms: refused without an echo, or read exactly as node-postgres reads them`, () => {
    const next = random(12_345)
    for (let run = 0; run < RUNS; run++) {
      let password = ''
      for (let i = 1 + next(12); i > 0; i--) password += CHARACTERS[next(CHARACTERS.length)]
      const form = FORMS[next(FORMS.length)] as (typeof FORMS)[number]
      const url = form.url(password)
      let ours
      try {
        ours = parseDatabaseUrl(url, 'DATABASE_URL')
      } catch (error) {
        expect(error, url).toBeInstanceOf(MigratorError)
        expect(form.encoded, `an encoded password was refused: ${url}`).toBeFalsy()
        const said = `${(error as MigratorError).message} ${(error as MigratorError).hint}`
        if (password.length >= 3) expect(said, url).not.toContain(password)
        continue
      }
      const theirs = parse(url)
      expect({ host: theirs.host, user: theirs.user, database: theirs.database, password: theirs.password }, url).toEqual({
        host: form.host,
        user: 'app',
        database: 'app',
        password,
      })
      expect(ours.password, url).toBe(password)
      if (password.length >= 4 && !/^[\w.-]+$/.test(password)) expect(ours.display, url).not.toContain(password)
    }
  })

  it.each([
    ['an @ then a # (the tail would be the host)', 'postgres://app:Sup3r@secret-part.example#tail@127.0.0.1:5432/app'],
    ['an @ then a ? (the tail would be the host)', 'postgres://app:p@ss?word@127.0.0.1:5432/app'],
    ['a password like Summer@2024?', 'postgres://app:Summer@2024?@db.example:5432/app'],
    ['an invalid percent-escape', 'postgres://app:pa%zzword@db.example/app'],
    ['a port that is not a number', 'postgres://app:123/x@db.example/app'],
  ])('%s is refused, naming the problem', (_case, url) => {
    expect(() => parseDatabaseUrl(url, 'DATABASE_URL')).toThrow(/^DATABASE_URL is malformed: /)
  })

  it.each([
    ['host and port', 'postgres://app:s3cret-pw@db.example:6432/app', 'postgres://app:***@db.example:6432/app'],
    ['a socket folder as a query parameter', 'postgres://app:s3cret-pw@/app?host=/run/postgresql', 'postgres://app:***@[socket /run/postgresql]/app'],
    ['a percent-encoded socket folder as the host', 'postgres://app@%2Frun%2Fpostgresql/app', 'postgres://app@[socket /run/postgresql]/app'],
    ['IPv6', 'postgres://app:s3cret-pw@[::1]:5432/app', 'postgres://app:***@[::1]:5432/app'],
    ['the socket: scheme', 'socket:/run/postgresql?db=app', 'socket:/run/postgresql?db=app'],
  ])('%s is accepted and shown without its password', (_case, url, display) => {
    expect(parseDatabaseUrl(url, 'DATABASE_URL').display).toBe(display)
  })
})
