import { parse as parseConnectionString } from 'pg-connection-string'
import { MigratorError } from './errors.js'

/**
 * Reading a database URL without ever letting its password escape.
 *
 * A password with an unencoded `@`, `/`, `?`, `#` or `%` makes the URL
 * ambiguous: parsers then disagree on where the password ends, and a piece of
 * it becomes the host name (sent to DNS), the port or the database name, all
 * of which reach error messages. So the URL is checked strictly first, and is
 * refused, described but never echoed, unless it reads one way only. Then
 * node-postgres's own parser (the one that will connect) must find the same
 * host, or the URL is refused too: a disagreement is detected, not guessed at.
 *
 * Accepted: `postgres://` and `postgresql://` URLs, including the socket
 * forms node-postgres accepts (`postgres://u:p@/db?host=/run/postgresql`,
 * `postgres://%2Frun%2Fpostgresql/db`) and `socket:/run/postgresql?db=db`.
 */

export interface DatabaseUrl {
  /** The text as given: what node-postgres parses. Holds the password: never print it. */
  readonly url: string
  /** The URL with its password masked: safe for logs. */
  readonly display: string
  /** The decoded password, so output can be scrubbed of it; `''` when there is none. */
  readonly password: string
}

const ENCODE_HINT =
  'percent-encode special characters in the user name and password (for example with encodeURIComponent): @ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25, space as %20'

/**
 * @param source where the text came from, as the user would name it (`DATABASE_URL`, `--database-url`, ...).
 * @throws MigratorError (stage `settings`) naming the part that is wrong, never its text.
 */
export function parseDatabaseUrl(text: string, source: string): DatabaseUrl {
  const malformed = (problem: string, hint = ENCODE_HINT) =>
    new MigratorError('settings', `${source} is malformed: ${problem}`, { hint })

  const trimmed = text.trim()
  if (/%(?![0-9A-Fa-f]{2})/.test(trimmed)) {
    throw malformed('it holds a % that does not start a percent-escape (%XX); a literal % in a password is written %25')
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(trimmed)?.[1]?.toLowerCase()
  if (scheme === undefined) {
    throw malformed('it does not start with postgres://', 'use the form postgres://user:password@host:5432/database')
  }
  if (scheme === 'socket') return socketUrl(trimmed, source)
  if (scheme !== 'postgres' && scheme !== 'postgresql') {
    throw new MigratorError('settings', `${source} has scheme "${scheme}:"; expected postgres: or postgresql:`, {
      hint: 'use the form postgres://user:password@host:5432/database',
    })
  }
  if (!trimmed.slice(scheme.length + 1).startsWith('//')) {
    throw malformed('postgres: is not followed by //', 'use the form postgres://user:password@host:5432/database')
  }

  const rest = trimmed.slice(scheme.length + 3)
  const authorityEnd = rest.search(/[/?#]/)
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd)
  const afterAuthority = authorityEnd === -1 ? '' : rest.slice(authorityEnd)
  const queryStart = afterAuthority.search(/[?#]/)
  const path = queryStart === -1 ? afterAuthority : afterAuthority.slice(0, queryStart)
  const query = queryStart === -1 ? '' : afterAuthority.slice(queryStart)

  // A database URL has no fragment, and a query value has no need of a raw @: either means a
  // password holding an unencoded # ? / or @, whose tail would otherwise be read as the host.
  if (trimmed.includes('#')) throw malformed('it holds a #, which would end the URL there; a # in the password is written %23')
  const ats = authority.split('@').length - 1
  if (ats > 1) throw malformed('it has more than one @ before the host; an @ in the user name or password is written %40')
  if (/@/.test(afterAuthority)) {
    throw malformed('an @ comes after a / or ?, so the password holds an unencoded / ? or @; write / as %2F, ? as %3F, @ as %40')
  }

  const at = authority.lastIndexOf('@')
  const userinfo = at === -1 ? '' : authority.slice(0, at)
  const hostport = at === -1 ? authority : authority.slice(at + 1)
  const colon = userinfo.indexOf(':')
  const user = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), () => malformed('the user name has a percent-escape that is not UTF-8'))
  const password = decode(colon === -1 ? '' : userinfo.slice(colon + 1), () => malformed('the password has a percent-escape that is not UTF-8'))

  const { host, port } = splitHostPort(hostport, malformed)
  if (path.split('/').length > 2) throw malformed('the database name holds a /; write it as %2F')
  const database = decode(path.slice(1), () => malformed('the database name has a percent-escape that is not UTF-8'))

  // The parser that will connect must read the same host: otherwise part of the URL could reach DNS as a host.
  let connectHost: string | undefined
  try {
    connectHost = parseConnectionString(trimmed).host ?? undefined
  } catch {
    throw malformed('node-postgres cannot parse it')
  }
  const params = new URLSearchParams(query.replace(/^\?/, '').replace(/#.*$/, ''))
  const queryHost = params.get('host')
  const expectedHost = queryHost ?? host
  if ((connectHost ?? '') !== expectedHost) {
    throw malformed('its host part reads differently to node-postgres than to this check, so it is ambiguous')
  }

  const shownHost = expectedHost.startsWith('/') ? `[socket ${expectedHost}]` : host.includes(':') ? `[${host}]` : host
  const credentials = user ? `${encodeURIComponent(user)}${password ? ':***' : ''}@` : ''
  const shownPort = port || (params.get('port') ?? '').replace(/\D/g, '')
  const display = `${scheme}://${credentials}${shownHost}${shownPort ? `:${shownPort}` : ''}/${encodeURIComponent(database)}`
  return { url: trimmed, display, password }
}

function socketUrl(text: string, source: string): DatabaseUrl {
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    throw new MigratorError('settings', `${source} is malformed: the socket: URL does not parse`, {
      hint: 'use the form socket:/run/postgresql?db=database, or postgres://user@/database?host=/run/postgresql',
    })
  }
  const password = safeDecode(parsed.password) ?? ''
  const database = parsed.searchParams.get('db') ?? ''
  return { url: text, display: `socket:${decodeURI(parsed.pathname)}?db=${encodeURIComponent(database)}`, password }
}

function splitHostPort(hostport: string, malformed: (problem: string) => MigratorError): { host: string; port: string } {
  let host: string
  let port = ''
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']')
    if (close === -1) throw malformed('the host has a [ without a closing ]')
    host = hostport.slice(1, close)
    const tail = hostport.slice(close + 1)
    if (tail !== '' && !tail.startsWith(':')) throw malformed('unexpected text after the ] of the host')
    port = tail.slice(1)
    if (!/^[0-9A-Fa-f:.]+$/.test(host)) throw malformed('the host between [ and ] is not an IPv6 address')
  } else {
    const colon = hostport.indexOf(':')
    host = colon === -1 ? hostport : hostport.slice(0, colon)
    port = colon === -1 ? '' : hostport.slice(colon + 1)
    const decoded = safeDecode(host) ?? ''
    // `%2Frun%2Fpostgresql`: a socket folder written as the host, as node-postgres accepts.
    if (decoded.startsWith('/')) host = decoded
    else if (!/^[A-Za-z0-9.-]*$/.test(host)) {
      throw malformed('the host name holds characters other than letters, digits, . and -, so part of the password may have been read as the host')
    }
  }
  if (port !== '' && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535)) {
    throw malformed('the port is not a number from 1 to 65535, so part of the password may have been read as the port')
  }
  return { host, port }
}

function decode(text: string, onError: () => MigratorError): string {
  const decoded = safeDecode(text)
  if (decoded === null) throw onError()
  return decoded
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text)
  } catch {
    return null
  }
}
