import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { TypeSpecError } from '../src/errors.js'
import { parseType } from '../src/model/normalize-type.js'
import { withTestDatabase } from './support/database.js'
import { enabledTargets } from './support/targets.js'

/** Spellings a user may write, with the text `format_type` prints for each. */
const SPELLINGS: readonly (readonly [spelling: string, formatType: string])[] = [
  ['int2', 'smallint'],
  ['smallint', 'smallint'],
  ['int', 'integer'],
  ['int4', 'integer'],
  ['INTEGER', 'integer'],
  ['int8', 'bigint'],
  ['bigint', 'bigint'],
  ['numeric', 'numeric'],
  ['decimal(10, 2)', 'numeric(10,2)'],
  ['numeric(12)', 'numeric(12,0)'],
  ['real', 'real'],
  ['float4', 'real'],
  ['float(10)', 'real'],
  ['float', 'double precision'],
  ['float8', 'double precision'],
  ['float(40)', 'double precision'],
  ['double precision', 'double precision'],
  ['text', 'text'],
  ['varchar', 'character varying'],
  ['varchar(255)', 'character varying(255)'],
  ['character varying(40)', 'character varying(40)'],
  ['char', 'character(1)'],
  ['char(3)', 'character(3)'],
  ['character(3)', 'character(3)'],
  ['bpchar', 'bpchar'],
  ['bool', 'boolean'],
  ['boolean', 'boolean'],
  ['date', 'date'],
  ['time', 'time without time zone'],
  ['time(3)', 'time(3) without time zone'],
  ['timetz', 'time with time zone'],
  ['time(2) with time zone', 'time(2) with time zone'],
  ['timestamp', 'timestamp without time zone'],
  ['timestamp(3)', 'timestamp(3) without time zone'],
  ['timestamp without time zone', 'timestamp without time zone'],
  ['timestamptz', 'timestamp with time zone'],
  ['TIMESTAMPTZ(6)', 'timestamp(6) with time zone'],
  ['timestamp with time zone', 'timestamp with time zone'],
  ['timestamp(0) with time zone', 'timestamp(0) with time zone'],
  ['interval', 'interval'],
  ['interval(3)', 'interval(3)'],
  ['interval day to second', 'interval day to second'],
  ['interval day to second(2)', 'interval day to second(2)'],
  ['interval year', 'interval year'],
  ['uuid', 'uuid'],
  ['json', 'json'],
  ['jsonb', 'jsonb'],
  ['bytea', 'bytea'],
  ['inet', 'inet'],
  ['int[]', 'integer[]'],
  ['int4[][]', 'integer[]'],
  ['text[3]', 'text[]'],
  ['varchar(20)[]', 'character varying(20)[]'],
  ['timestamptz[]', 'timestamp with time zone[]'],
  ['integer array', 'integer[]'],
  ['_int4', 'integer[]'],
  ['jsonb[]', 'jsonb[]'],
]

describe('parseType', () => {
  it.each(SPELLINGS)('%s → %s', (spelling, expected) => {
    expect(parseType(spelling).type).toBe(expected)
  })

  it('is idempotent: a canonical spelling parses to itself', () => {
    for (const [, canonical] of SPELLINGS) expect(parseType(canonical).type).toBe(canonical)
  })

  it.each([
    ['serial', 'integer'],
    ['bigserial', 'bigint'],
    ['serial8', 'bigint'],
    ['smallserial', 'smallint'],
  ])('%s is %s filled from a sequence', (spelling, type) => {
    expect(parseType(spelling)).toEqual({ type, serial: true })
  })

  it.each(['intgr', 'varchar(abc)', 'numeric(1,2,3)', 'timestamp(9)', 'text(4)', 'serial[]', 'citext', 'varchar(0)', ''])(
    'rejects %j with a TypeSpecError naming it',
    (spelling) => {
      expect(() => parseType(spelling)).toThrow(TypeSpecError)
    },
  )
})

describe.each(enabledTargets())('parseType agrees with format_type on %s', (target) => {
  it('for every spelling', async () => {
    await withTestDatabase(target, async ({ db, exec }) => {
      const columns = SPELLINGS.map(([spelling], i) => `c${i} ${spelling}`).join(', ')
      await exec(`CREATE TABLE spellings (${columns})`)
      const { rows } = await sql<{ name: string; type: string }>`
        SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
         WHERE attrelid = 'spellings'::regclass AND attnum > 0 ORDER BY attnum`.execute(db)
      const fromServer = rows.map((row) => [SPELLINGS[Number(row.name.slice(1))]?.[0], row.type])
      const fromParser = SPELLINGS.map(([spelling]) => [spelling, parseType(spelling).type])
      expect(fromParser).toEqual(fromServer)
    })
  })
})
