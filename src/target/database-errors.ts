/**
 * What a database error means for the person running the tool: the SQLSTATE
 * (when there is one) and what to do about it.
 */

/** The five-character SQLSTATE of a PostgreSQL error, or `null` (network errors have none). */
export function sqlStateOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null
}

/** ` (SQLSTATE 42501)` for a message about `error`, or nothing when it has no SQLSTATE. */
export function sqlStateSuffix(error: unknown): string {
  const state = sqlStateOf(error)
  return state === null ? '' : ` (SQLSTATE ${state})`
}

/** The connection went away under a query: no SQLSTATE, the driver's own words or a socket error. */
export function isConnectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : ''
  return (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    /Connection terminated|connection closed|Client has encountered a connection error/i.test(message) ||
    ['57P01', '57P02', '57P03', '08006', '08003', '08001'].includes(sqlStateOf(error) ?? '')
  )
}

/** The fix for a database error the tool cannot fix itself; `undefined` when there is nothing specific to say. */
export function hintForDatabaseError(error: unknown): string | undefined {
  if (isConnectionLost(error)) {
    return 'the connection to the database was lost (server restart, failover, network): run the command again; apply reads its history and re-checks the live schema, so it converges whether or not the last transaction committed'
  }
  switch (sqlStateOf(error)) {
    case '42501':
      return privilegeHint(error)
    case '08P01':
      if (/query_wait_timeout/.test(error instanceof Error ? error.message : '')) {
        return 'the pooler found no free server connection within its query_wait_timeout: retry when load is lower, raise its pool size, or connect directly with DATABASE_URL_DIRECT'
      }
      return 'the server or a pooler in between refused the statement (PgBouncer in statement pooling mode refuses transactions): connect directly, for example with DATABASE_URL_DIRECT'
    case '25006':
      return 'the database is read-only (a replica, or default_transaction_read_only): point DATABASE_URL at the primary'
    case '53300':
      return 'the server has no free connection slots: retry when load is lower, or raise max_connections'
    case '57014':
      return 'a statement was cancelled (statement_timeout or an operator): raise SCHEMA_STATEMENT_TIMEOUT (0 means no limit), or run again'
    default:
      return undefined
  }
}

/** PostgreSQL's message says which privilege is missing; the fix differs for each. */
function privilegeHint(error: unknown): string {
  const message = error instanceof Error ? error.message : ''
  const schema = /permission denied for schema (\S+)/.exec(message)?.[1]
  if (schema) return `the role may not create objects in schema ${schema}: as its owner or a superuser, GRANT CREATE ON SCHEMA ${schema} TO the role that runs the tool`
  const owned = /(?:must be owner of|permission denied for) (?:table|relation) (\S+)/.exec(message)?.[1]
  if (owned) return `only the owner of ${owned} may alter it: run the tool as that role (or a member of it), or ALTER TABLE ${owned} OWNER TO the role that runs the tool`
  if (/permission denied for database/.test(message)) return 'the role may not create schemas in this database: GRANT CREATE ON DATABASE to the role that runs the tool, or create the schema as its owner'
  return 'the database role lacks a privilege: run the tool as the owner of the tables it changes, or grant the privilege PostgreSQL names above'
}

/** Why a connection attempt failed, in plain words with the code. */
export function describeConnectError(error: unknown): string {
  const code = (error as { code?: unknown }).code
  switch (code) {
    case 'ECONNREFUSED':
      return 'nothing is listening there (ECONNREFUSED)'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (${code})`
    case '28P01':
    case '28000':
      return `authentication failed (SQLSTATE ${code})`
    case '3D000':
      return `the database does not exist (SQLSTATE ${code})`
    default:
      return error instanceof Error ? error.message : String(error)
  }
}

/** The fix for a failed connection attempt. */
export function connectHint(error: unknown): string {
  const code = (error as { code?: unknown }).code
  if (code === '28P01' || code === '28000') return 'check the user and password in DATABASE_URL'
  if (code === '3D000') return 'create the database first, or fix its name in DATABASE_URL'
  return 'check the host and port in DATABASE_URL and that the server is running'
}
